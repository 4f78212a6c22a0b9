cordova.define("cordova-plugin-dialogs.notification", function(require, exports, module) {
// Stand-in for cordova-plugin-dialogs 2.0.2: the same file on every platform.
module.exports = {
    alert: function (message, completeCallback, title, buttonLabel) {
        window.alert(message);
        if (completeCallback) {
            completeCallback();
        }
    }
};
});
