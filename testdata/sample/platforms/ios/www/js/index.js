// Waits for Cordova and the MobileFirst client, then shows that the app runs.
document.addEventListener('deviceready', function () {
    var status = document.getElementById('status');
    status.textContent = 'Device is ready';
    status.className = 'ready';
}, false);

function wlCommonInit() {
    console.log('MobileFirst client initialized');
}
