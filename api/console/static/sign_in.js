/* Sign-in: a member of an organization.

   The console asks the API for a member session with the key given (a
   service or admin key; none on a local server that has no key yet, where
   loopback callers need none): POST /v1/organizations/{org}/sessions. The
   session's token is all the pages then send, so the API sees that member,
   and the policy decides with that member's role; the key is not kept.
   A session token pasted in instead of a key is used as it is.
   Billing staff: an admin key (or nothing, locally) opens the workbench. */
"use strict";

(() => {
  const {t, api, saveSession, withLang, problemNode} = Console;
  const form = document.getElementById("sign-in");
  const out = document.getElementById("sign-in-status");
  const previous = Console.session();
  if (previous) {
    form.org.value = previous.org || "";
    form.member.value = previous.member || "";
  }

  form.addEventListener("submit", async event => {
    event.preventDefault();
    const to = (event.submitter && event.submitter.value) || "usage";
    const org = form.org.value.trim();
    const member = form.member.value.trim();
    const key = form.key.value.trim();
    out.replaceChildren();
    if (to === "workbench") {
      saveSession({org: org || null, member: null, token: key || null, session: false});
      location.href = withLang("/console/workbench");
      return;
    }
    if (!org || !member) {
      out.textContent = `${t("sign_in_failed")}: ${t("organization")}, ${t("member")}`;
      return;
    }
    let session = {org, member, token: key || null, session: false};
    try {
      if (!key.startsWith("ts_")) {  // not a session already: make one
        saveSession(session);  // the key, for the one call that asks for a session
        const made = await api("POST", `/v1/organizations/${encodeURIComponent(org)}/sessions`, {member, ttl_s: 8 * 3600});
        session = {org, member, token: made.token, session: true, expires_at: made.expires_at};
      }
      saveSession(session);
      await api("GET", `/v1/organizations/${encodeURIComponent(org)}/members/${encodeURIComponent(member)}`);
      location.href = withLang(`/console/organizations/${encodeURIComponent(org)}`);
    } catch (error) {
      sessionStorage.clear();
      out.replaceChildren(el("strong", {}, t("sign_in_failed")), problemNode(error));
    }
  });

  const el = Console.el;
})();
