/* The start form: POST /api/sessions, then the exam page; a refusal shows the API's sentence. */
"use strict";

(function () {
  const form = document.getElementById("start-form");
  if (!form) return;
  const workspace = document.getElementById("workspace");
  const minutes = document.getElementById("minutes");
  const error = document.getElementById("start-error");
  const button = document.getElementById("start-button");
  let suggested = workspace.value;

  // Follow the chosen exam with the suggested folder, unless the learner typed their own.
  form.querySelectorAll('input[name="exam"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (workspace.value === suggested) {
        workspace.value = radio.dataset.folder;
        suggested = radio.dataset.folder;
      }
    });
  });

  function fail(sentence, field) {
    error.textContent = sentence;
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    error.textContent = "";
    workspace.removeAttribute("aria-invalid");
    minutes.removeAttribute("aria-invalid");
    const chosen = form.querySelector('input[name="exam"]:checked');
    if (!chosen) return fail("Choose an exam.");
    if (!workspace.value.trim()) return fail("Give the folder where the project should be created.", workspace);
    const keras = document.getElementById("keras");
    const body = { exam: chosen.value, workspace: workspace.value.trim(), keras: keras ? keras.value : "2" };
    if (minutes.value.trim() !== "") {
      const value = Number(minutes.value);
      if (!(value > 0)) return fail("The practice length must be a number of minutes above 0.", minutes);
      body.minutes = value;
    }
    button.disabled = true;
    button.textContent = "Starting…";
    const answer = await window.tfexam.call("POST", "/api/sessions", body);
    if (answer.ok) {
      window.location.assign("/sessions/" + encodeURIComponent(answer.data.session));
      return;
    }
    button.disabled = false;
    button.textContent = "Start exam";
    fail(answer.data.detail, answer.status === 409 ? workspace : null);
  });
})();
