/* Web Push in Whistle's service worker (imported by /sw.js, whistle.web.offline): shows each
   message and opens its page when tapped.
   The payload is the JSON the server encrypts for this browser: title, body, url, tag. */
"use strict";

self.addEventListener("push", (event) => {
  let message = {};
  if (event.data) {
    try {
      message = event.data.json();
    } catch (error) {
      message = { body: event.data.text() };
    }
  }
  const options = {
    body: message.body || "",
    data: { url: message.url || "/" },
    requireInteraction: true,
  };
  if (message.tag) {
    // A repeat of the same message replaces the first instead of piling up.
    options.tag = message.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(message.title || "Whistle", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (client.url === target.href && "focus" in client) {
          return client.focus();
        }
      }
      return self.clients.openWindow(target.href);
    }),
  );
});
