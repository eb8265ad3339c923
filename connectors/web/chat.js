// The web chat page: the Rasa socket.io protocol (session_request / session_confirm /
// user_uttered / bot_uttered), showing text, quick replies, cards (generic templates) and images.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var quick = document.getElementById("quick");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var status = document.getElementById("status");
  var base = window.location.pathname.replace(/\/chat\/?$/, "");
  var storedId = window.sessionStorage.getItem("assistant.session_id");
  // A server with a channel token (or with API keys required) takes it as socket.io's auth;
  // the page passes on the token it was opened with: /chat?token=...
  var token = new URLSearchParams(window.location.search).get("token");
  var socket = io({ path: base + "/socket.io", auth: token ? { token: token } : {} });
  var sessionId = null;

  function add(node) {
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function bubble(kind, text) {
    var li = document.createElement("li");
    li.className = "msg " + kind;
    li.textContent = text;
    return add(li);
  }

  function send(text, shown) {
    if (!text) { return; }
    bubble("user", shown || text);
    quick.innerHTML = "";
    socket.emit("user_uttered", { message: text, session_id: sessionId, customData: {} });
  }

  function showQuickReplies(options) {
    quick.innerHTML = "";
    options.forEach(function (option) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "quick-reply";
      button.textContent = option.title;
      button.addEventListener("click", function () { send(option.payload, option.title); });
      quick.appendChild(button);
    });
  }

  // Only these become links or images: never javascript:, data: and the like.
  function safeUrl(url, schemes) {
    try {
      var parsed = new URL(url, window.location.href);
      return schemes.indexOf(parsed.protocol) >= 0 ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }
  var LINKS = ["http:", "https:", "tel:", "mailto:"];
  var IMAGES = ["http:", "https:"];

  function showCard(card) {
    var li = document.createElement("li");
    li.className = "card";
    if (card.image_url && safeUrl(card.image_url, IMAGES)) {
      var img = document.createElement("img");
      img.src = safeUrl(card.image_url, IMAGES);
      img.alt = card.title;
      li.appendChild(img);
    }
    var body = document.createElement("div");
    body.className = "card-body";
    var title = document.createElement("h2");
    title.textContent = card.title;
    body.appendChild(title);
    if (card.description) {
      var description = document.createElement("p");
      description.textContent = card.description;
      body.appendChild(description);
    }
    li.appendChild(body);
    if (card.buttons && card.buttons.length) {
      var buttons = document.createElement("div");
      buttons.className = "card-buttons";
      card.buttons.forEach(function (b) {
        var el;
        if (b.url && safeUrl(b.url, LINKS)) {
          el = document.createElement("a");
          el.href = safeUrl(b.url, LINKS);
          el.target = "_blank";
          el.rel = "noopener";
        } else {
          el = document.createElement("button");
          el.type = "button";
          el.addEventListener("click", function () { send(b.text || b.label, b.label); });
        }
        el.textContent = b.label;
        buttons.appendChild(el);
      });
      li.appendChild(buttons);
    }
    add(li);
  }

  socket.on("connect", function () {
    status.textContent = "connected";
    socket.emit("session_request", { session_id: storedId });
  });
  socket.on("disconnect", function () { status.textContent = "disconnected"; });
  socket.on("session_confirm", function (id) {
    sessionId = typeof id === "string" ? id : (id && id.session_id) || null;
    window.sessionStorage.setItem("assistant.session_id", sessionId);
    status.textContent = "ready";
    document.body.setAttribute("data-session", sessionId);
  });
  function showElement(element) {
    showCard({
      title: element.title,
      description: element.subtitle,
      image_url: element.image_url,
      buttons: (element.buttons || []).map(function (b) {
        return b.type === "web_url" ? { label: b.title, url: b.url } : { label: b.title, text: b.payload };
      })
    });
  }

  socket.on("bot_uttered", function (message) {
    var attachment = message.attachment;
    if (attachment && attachment.type === "template" && attachment.payload.template_type === "generic") {
      attachment.payload.elements.forEach(showElement);
    } else if (attachment && attachment.type === "image" && safeUrl(attachment.payload.src, IMAGES)) {
      var li = document.createElement("li");
      li.className = "msg bot image";
      var img = document.createElement("img");
      img.src = safeUrl(attachment.payload.src, IMAGES);
      img.alt = attachment.payload.title || "";
      li.appendChild(img);
      add(li);
    } else if (message.text) {
      bubble("bot", message.text);
    }
    var options = message.quick_replies || message.buttons;
    if (options && options.length) { showQuickReplies(options); }
  });
  socket.on("error", function (problem) {
    bubble("error", (problem && problem.message) || "error");
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    input.value = "";
    send(text);
  });
})();
