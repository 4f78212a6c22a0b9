/*
 * Stand-in for the MobileFirst client (worklight.js) shipped by
 * cordova-plugin-mfp 8.0.2024082705. The real file is about 1 MB.
 */
var WL = WL ? WL : {};
WL.Client = {
    getAppProperty: function (name) {
        return WL.StaticAppProps[name];
    },
    checksum: function () {
        return typeof WL_CHECKSUM === 'undefined' ? null : WL_CHECKSUM.checksum;
    }
};
if (typeof wlCommonInit === 'function') {
    wlCommonInit();
}
