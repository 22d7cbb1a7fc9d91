/* Shared by every page: calls to the REST API. The page never holds the service's token: its
   calls ride on the HttpOnly cookie that the one-time code set, so no address (and no line of
   the access log) carries a secret. Errors come back as the API's one sentence, so pages can show
   them as they are. */
"use strict";

window.tfexam = (function () {
  function url(path) {
    return path;
  }

  async function call(method, path, body) {
    const init = { method: method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url(path), init);
    } catch (error) {
      return { ok: false, status: 0,
               data: { detail: "The tfexam service does not answer: is it still running?" } };
    }
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    if (!response.ok && !data.detail) {
      data.detail = "The service answered with status " + response.status + ".";
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  return { url: url, call: call };
})();
