// Platform: cordova-ios
// cordova-js 6.1.0
// Stand-in for the cordova.js that "cordova prepare ios" copies from cordova-ios.
;(function () {
    var PLATFORM_ID = 'ios';
    window.cordova = {
        platformId: PLATFORM_ID,
        version: '6.1.0',
        define: function (id, factory) {
            (window.__cordovaModules = window.__cordovaModules || {})[id] = factory;
        }
    };
    document.addEventListener('DOMContentLoaded', function () {
        document.dispatchEvent(new Event('deviceready'));
    });
})();
