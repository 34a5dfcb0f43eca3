/* The "ring this phone" button: subscribes this browser to Web Push with the server's VAPID
   key and tells the server (JSON, with the CSRF token); a second press unsubscribes. */
"use strict";

(function () {
  const button = document.querySelector("[data-push-subscribe]");
  const status = document.querySelector("[data-push-status]");
  if (!button || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return;
  }

  function applicationServerKey(base64url) {
    const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  async function send(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": button.dataset.csrf },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      throw new Error("HTTP " + response.status);
    }
  }

  function say(name) {
    if (status) {
      status.textContent = name ? status.dataset[name] || "" : "";
    }
  }

  async function show(subscription) {
    button.textContent = subscription ? button.dataset.labelOff : button.dataset.labelOn;
    say(subscription ? "textOn" : Notification.permission === "denied" ? "textBlocked" : "");
    button.hidden = false;
  }

  async function registration() {
    return navigator.serviceWorker.register(button.dataset.worker);
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const reg = await registration();
      const existing = await reg.pushManager.getSubscription();
      if (existing) {
        await send(button.dataset.unsubscribeUrl, { endpoint: existing.endpoint });
        await existing.unsubscribe();
        await show(null);
        return;
      }
      if ((await Notification.requestPermission()) !== "granted") {
        await show(null);
        say("textBlocked");
        return;
      }
      const subscription = await reg.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: applicationServerKey(button.dataset.key),
      });
      await send(button.dataset.subscribeUrl, subscription.toJSON());
      await show(subscription);
    } catch (error) {
      say("textFailed");
    } finally {
      button.disabled = false;
    }
  });

  registration()
    .then((reg) => reg.pushManager.getSubscription())
    .then(async (subscription) => {
      if (subscription) {
        // The server forgets subscriptions a push service dropped: tell it again.
        await send(button.dataset.subscribeUrl, subscription.toJSON()).catch(() => {});
      }
      await show(subscription);
    })
    .catch(() => {});
})();
