cordova.define("cordova-plugin-dialogs.notification_android", function(require, exports, module) {
// Stand-in for the Android-only part of cordova-plugin-dialogs 2.0.2.
module.exports = {
    activityStart: function (title, message) {
        console.log('activityStart', title, message);
    },
    activityStop: function () {
        console.log('activityStop');
    }
};
});
