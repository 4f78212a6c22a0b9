cordova.define("cordova-plugin-device.device", function(require, exports, module) {
// Stand-in for cordova-plugin-device 3.0.0: the same file on every platform.
function Device () {
    this.available = true;
    this.platform = window.cordova ? window.cordova.platformId : null;
    this.uuid = null;
}

module.exports = new Device();
});
