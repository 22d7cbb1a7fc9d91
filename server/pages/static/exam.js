/* The exam page: a countdown on the server's clock, question cards redrawn from the status that
   every server-sent event carries, Submit and Test, and Finish behind a confirmation dialog. */
"use strict";

(function () {
  const api = window.tfexam;
  let status = JSON.parse(document.getElementById("initial-status").textContent);
  const sessionId = status.session;
  const reportUrl = "/sessions/" + encodeURIComponent(sessionId) + "/report";
  const duration = Number(document.querySelector(".timer").dataset.duration) || 0;
  // Not a dash: a big bold "—" in the corner of a card read as a button (a window's minimise).
  const NO_SCORE = "no score yet";
  const STATE_TEXT = { waiting: "Waiting", grading: "Grading", graded: "Graded", error: "Error",
                       none: "No model yet" };
  const WARNINGS = [
    { seconds: 5 * 60, text: "5 minutes left: the exam is submitted automatically at the deadline." },
    { seconds: 30 * 60, text: "30 minutes left: check that every question has a saved model." },
  ];
  let leaving = false;

  /* The clock: the server's time at the moment a status arrived, carried forward with the
     browser's monotonic timer. The browser's wall clock may be wrong; it is never used. */
  let serverAtSync = Date.parse(status.server_time);
  let perfAtSync = performance.now();

  function serverNow() {
    return serverAtSync + (performance.now() - perfAtSync);
  }

  function remainingSeconds() {
    if (status.state !== "running") return 0;
    return Math.max(0, (Date.parse(status.deadline) - serverNow()) / 1000);
  }

  function clockText(seconds) {
    const whole = Math.max(0, Math.floor(seconds));
    const h = Math.floor(whole / 3600);
    const m = Math.floor((whole % 3600) / 60);
    const s = whole % 60;
    return h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
  }

  function toReport() {
    if (leaving) return;
    leaving = true;
    window.location.assign(reportUrl);
  }

  const timerBox = document.querySelector(".timer");
  const examTitle = timerBox.dataset.title || document.title;
  const countdown = document.getElementById("countdown");
  const warning = document.getElementById("time-warning");
  let lastTick = "";

  function tick() {
    const left = remainingSeconds();
    const text = clockText(left);
    if (text !== lastTick) {
      countdown.textContent = text;
      lastTick = text;
      // The tab's title carries the time too, so it shows from any other tab or window.
      document.title = (status.state === "running" ? text + " left" : "Submitted") + " · " + examTitle;
    }
    countdown.classList.toggle("low", left <= 5 * 60);
    // A warning is due once its threshold is crossed, for exams longer than the threshold.
    const due = WARNINGS.find(function (w) { return duration > w.seconds && left <= w.seconds; });
    const wanted = left <= 0 ? "Time is up: the exam is being submitted." : (due ? due.text : "");
    if (warning.textContent !== wanted) {
      warning.textContent = wanted;
      warning.hidden = wanted === "";
    }
    if (left <= 0 && status.state === "running") refresh();
  }

  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }

  /* Only a full 5/5 is green; 0 is red (see site.css). */
  function band(score) {
    if (score === null || score === undefined) return "none";
    return score >= 5 ? "full" : (score <= 0 ? "zero" : "partial");
  }

  /* Submit and Test's note answers for one submission ("Already graded: … could not be
     scored"). Once the card shows another submission, or the one it waited for is finished, the
     card's own state and score say what is true and the note would contradict them: it goes. */
  function dropStaleNote(card, q) {
    const note = card.querySelector('[data-field="note"]');
    if (!note || !note.textContent || !note.dataset.submission) return;
    const about = Number(note.dataset.submission);
    const waited = note.dataset.finished !== "true";
    const finished = q.state === "graded" || q.state === "error";
    if (q.latest_submission !== about || (waited && finished)) {
      note.textContent = "";
      delete note.dataset.submission;
      delete note.dataset.finished;
    }
  }

  /* Model files saved where nothing grades them (status.misplaced), with where they belong. */
  const misplaced = document.getElementById("misplaced");
  const misplacedList = document.getElementById("misplaced-list");
  let misplacedKey = JSON.stringify(status.misplaced || []);
  function drawMisplaced(items) {
    const key = JSON.stringify(items || []);
    if (key === misplacedKey) return;
    misplacedKey = key;
    misplacedList.replaceChildren();
    (items || []).forEach(function (item) {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = item.path;
      li.append(code, document.createTextNode(": " + item.should_be));
      misplacedList.append(li);
    });
    misplaced.hidden = !(items && items.length);
  }

  /* Saves tfexam could not record (a full home, status.unrecorded_saves): each named until a
     save of its question is recorded. */
  const unrecorded = document.getElementById("unrecorded");
  const unrecordedList = document.getElementById("unrecorded-list");
  let unrecordedKey = JSON.stringify(status.unrecorded_saves || []);
  function drawUnrecorded(items) {
    const key = JSON.stringify(items || []);
    if (key === unrecordedKey) return;
    unrecordedKey = key;
    unrecordedList.replaceChildren();
    (items || []).forEach(function (item) {
      const li = document.createElement("li");
      li.dataset.question = item.question;
      li.textContent = item.message;
      unrecordedList.append(li);
    });
    unrecorded.hidden = !(items && items.length);
  }

  /* The project folder went missing (status.project, issue 11): say so until it is back. */
  function drawProject(next) {
    let banner = document.getElementById("project-missing");
    if (!banner) {
      banner = document.createElement("p");
      banner.id = "project-missing";
      banner.className = "problem";
      banner.setAttribute("role", "alert");
      banner.hidden = true;
      misplaced.parentNode.insertBefore(banner, misplaced);
    }
    const text = next.project === "missing" ? (next.project_message || "The project folder is missing.") : "";
    if (banner.textContent !== text) banner.textContent = text;
    banner.hidden = text === "";
  }

  function draw(next) {
    status = next;
    serverAtSync = Date.parse(next.server_time);
    perfAtSync = performance.now();
    setText(document.getElementById("total"), next.total.toFixed(2) + " %");
    next.questions.forEach(function (q) {
      const card = document.querySelector('.card[data-question="' + q.id + '"]');
      if (!card) return;
      card.dataset.state = q.state;
      card.dataset.band = band(q.score);
      const score = card.querySelector('[data-field="score"]');
      setText(score, q.score === null ? NO_SCORE : q.score + "/5");
      score.setAttribute("aria-label", q.score === null ? "Score none yet" : "Score " + q.score + " out of 5");
      setText(card.querySelector('[data-field="state"]'), STATE_TEXT[q.state] || q.state);
      setText(card.querySelector('[data-field="message"]'), q.message || "");
      setText(card.querySelector('[data-field="submissions"]'), String(q.submissions));
      dropStaleNote(card, q);
    });
    drawMisplaced(next.misplaced);
    drawUnrecorded(next.unrecorded_saves);
    drawProject(next);
    if (next.state === "submitted") toReport();
    tick();
  }

  let refreshing = false;
  let lastRefresh = 0;
  let eventsDrawn = 0;
  async function refresh(force) {
    // At most once a second: at the deadline, tick() asks on every beat until the sweep lands.
    if (refreshing || (!force && performance.now() - lastRefresh < 1000)) return;
    refreshing = true;
    lastRefresh = performance.now();
    const eventsBefore = eventsDrawn;
    const answer = await api.call("GET", "/api/sessions/" + encodeURIComponent(sessionId));
    refreshing = false;
    if (answer.ok) {
      heard();
      // An event drawn while this answer travelled carried a status at least as new: an older
      // answer drawn over it would bring back what is gone (a "missing folder" that is back).
      if (eventsDrawn === eventsBefore) draw(answer.data);
    } else if (answer.status === 0) {
      serviceDown();
    }
  }

  /* Live updates: every event carries the whole fresh status, so any event means "redraw". The
     service also sends a heartbeat every 2 s: silence for 4.5 s, or a broken stream, means it
     stopped, and the page says so at once instead of showing a stale "grading". EventSource
     reconnects by itself; when it is back, the page fetches the fresh status. */
  const live = document.getElementById("live");
  const downBanner = document.getElementById("service-down");
  // The service sends a heartbeat every 2 s; 4.5 silent seconds mean it is gone (a stopping
  // service cuts the stream's task but may hold the connection open until its process ends).
  const SILENCE_MS = 4500;
  const KINDS = ["session.started", "session.submitted", "submission.queued", "submission.grading",
                 "result", "question.waiting", "message", "project.missing", "project.back"];
  let lastHeard = performance.now();
  let down = false;
  let source = null;

  function heard() {
    lastHeard = performance.now();
    if (!down) return;
    down = false;
    downBanner.hidden = true;
    document.body.classList.remove("service-down-mode");
    setText(live, "live updates on");
    refresh(true);
  }

  function serviceDown() {
    if (down || leaving) return;
    down = true;
    downBanner.hidden = false;
    document.body.classList.add("service-down-mode");
    setText(live, "service not answering");
    document.querySelectorAll('.card[data-state="grading"], .card[data-state="waiting"]').forEach(
      function (card) { setText(card.querySelector('[data-field="state"]'), "Paused: service stopped"); });
  }

  function listen() {
    if (source) source.close();
    source = new EventSource(api.url("/api/sessions/" + encodeURIComponent(sessionId) + "/events"));
    function onEvent(event) {
      heard();
      let data;
      try { data = JSON.parse(event.data); } catch (error) { return; }
      if (data.status) {
        eventsDrawn += 1;
        draw(data.status);
      }
      if (data.kind === "session.submitted") toReport();
    }
    KINDS.forEach(function (kind) { source.addEventListener(kind, onEvent); });
    source.addEventListener("heartbeat", heard);
    source.addEventListener("open", function () {
      setText(live, "live updates on");
      heard();
    });
    source.addEventListener("error", function () {
      if (leaving) return;
      serviceDown();
      // A refused reconnection (an answer that is not a stream) ends EventSource's own retries.
      if (source.readyState === EventSource.CLOSED) window.setTimeout(listen, 2000);
    });
  }
  window.addEventListener("pagehide", function () { if (source) source.close(); });
  // Silence is looked for ten times a second, so "within 5 s" holds with room to spare (4.5 s of
  // silence plus at most 0.1 s); a stream that is open again is asked for fresh status twice a
  // second.
  window.setInterval(function () {
    if (!down && performance.now() - lastHeard > SILENCE_MS) serviceDown();
  }, 100);
  window.setInterval(function () {
    if (down && source && source.readyState === EventSource.OPEN) refresh(true);
  }, 500);

  /* Submit and Test always answers on its card: the API's sentence ("Already graded: same file as
     at 12:03, 4/5", "Submitted: grading …", or why not). The button stays focusable while busy
     (aria-disabled, not disabled), so keyboard focus never drops to the page. */
  document.querySelectorAll('[data-action="submit"]').forEach(function (button) {
    button.addEventListener("click", async function () {
      if (button.getAttribute("aria-disabled") === "true") return;
      const card = button.closest(".card");
      const error = card.querySelector('[data-field="error"]');
      const note = card.querySelector('[data-field="note"]');
      error.textContent = "";
      note.textContent = "Submitting…";
      button.setAttribute("aria-disabled", "true");
      button.setAttribute("aria-busy", "true");
      const answer = await api.call("POST", "/api/sessions/" + encodeURIComponent(sessionId) +
        "/questions/" + encodeURIComponent(card.dataset.question) + "/submit");
      button.removeAttribute("aria-disabled");
      button.removeAttribute("aria-busy");
      if (document.activeElement === document.body) button.focus();
      if (!answer.ok) {
        note.textContent = "";
        error.textContent = answer.data.detail;
        if (answer.status === 0) serviceDown();
        return;
      }
      note.textContent = answer.data.message || "Submitted.";
      note.dataset.submission = String(answer.data.submission);
      note.dataset.finished = String(answer.data.state === "graded" || answer.data.state === "error");
      refresh(true);
    });
  });

  /* Finish: a modal dialog; focus stays inside it, Esc closes it, focus returns to the opener. */
  const dialog = document.getElementById("finish-dialog");
  const opener = document.getElementById("finish-open");
  const confirmButton = document.getElementById("finish-confirm");
  const dialogError = document.getElementById("finish-error");

  opener.addEventListener("click", function () {
    const missing = status.questions.filter(function (q) { return q.score === null; })
      .map(function (q) { return q.id; });
    document.getElementById("finish-unsubmitted").textContent = missing.length
      ? "Not graded yet: " + missing.join(", ") + " (a question with no graded model scores 0)."
      : "";
    dialogError.textContent = "";
    dialog.showModal();
    document.getElementById("finish-cancel").focus();
  });
  document.getElementById("finish-cancel").addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", function () { if (!leaving) opener.focus(); });
  dialog.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") return;
    const focusable = Array.from(dialog.querySelectorAll("button:not([disabled]), a[href]"));
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
  confirmButton.addEventListener("click", async function () {
    confirmButton.disabled = true;
    const answer = await api.call("POST", "/api/sessions/" + encodeURIComponent(sessionId) + "/finish");
    confirmButton.disabled = false;
    if (answer.ok) {
      toReport();
      return;
    }
    dialogError.textContent = answer.data.detail;
  });

  if (status.state === "submitted") {
    toReport();
    return;
  }
  drawProject(status);
  tick();
  window.setInterval(tick, 250);
  // A safety net under the event stream; also re-syncs the clock and shows misplaced models and
  // saves that could not be recorded (a full disk writes no event to announce them).
  window.setInterval(refresh, 5000);
  listen();
})();
