cordova.define("cordova-plugin-mfp.mfp", function(require, exports, module) {
// Stand-in for the plugin's bootstrap.js: loads the MobileFirst client files in order.
var WORKLIGHT_DIR = 'plugins/cordova-plugin-mfp/worklight';
var STATIC_APP_PROPS_PATH = WORKLIGHT_DIR + '/static_app_props.js';
var CHECKSUM_PATH = WORKLIGHT_DIR + '/checksum.js';
var WORKLIGHT_PATH = WORKLIGHT_DIR + '/worklight.js';

function loadScript (src) {
    var script = document.createElement('script');
    script.src = src;
    script.async = false;
    document.head.appendChild(script);
}

[STATIC_APP_PROPS_PATH, CHECKSUM_PATH, WORKLIGHT_PATH].forEach(loadScript);
});
