cordova.define('cordova/plugin_list', function(require, exports, module) {
  module.exports = [
    {
      "id": "cordova-plugin-device.device",
      "file": "plugins/cordova-plugin-device/www/device.js",
      "pluginId": "cordova-plugin-device",
      "clobbers": [
        "device"
      ]
    },
    {
      "id": "cordova-plugin-dialogs.notification",
      "file": "plugins/cordova-plugin-dialogs/www/notification.js",
      "pluginId": "cordova-plugin-dialogs",
      "merges": [
        "navigator.notification"
      ]
    },
    {
      "id": "cordova-plugin-mfp.mfp",
      "file": "plugins/cordova-plugin-mfp/bootstrap.js",
      "pluginId": "cordova-plugin-mfp",
      "runs": true
    }
  ];
  module.exports.metadata = {
    "cordova-plugin-device": "3.0.0",
    "cordova-plugin-dialogs": "2.0.2",
    "cordova-plugin-mfp": "8.0.2024082705"
  };
});
