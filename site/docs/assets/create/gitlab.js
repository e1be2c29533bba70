/* SciApps store, the Create page: GitLab: sign-in and the merge request (REST API). */
import { $, branchName, CONFIG, el, OAUTH_KEY, state, TOKEN_KEY, V, yamlText } from "./core.js";
import { saveDraft } from "./draft.js";
import { ready } from "./transfer.js";

// ------------------------------------------------------------ GitLab
class GitLabError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export const gitlab = CONFIG.gitlab;
export const redirectUri = () => location.origin + location.pathname;

// The GitLab token lives in this page's memory only: never in sessionStorage or any
// other storage that another page of the store's origin could read. A reload asks again.
export let session = null;
sessionStorage.removeItem(TOKEN_KEY); // where older versions of this page kept it
export const token = () => session;
export const keepToken = (value) => { session = value; };

export async function api(method, path, body) {
  const auth = token();
  if (!auth) throw new GitLabError("you are not signed in to GitLab", 401);
  const headers = auth.kind === "oauth" ? { Authorization: `Bearer ${auth.value}` } : { "PRIVATE-TOKEN": auth.value };
  if (body) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`${gitlab.url}/api/v4${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined, cache: "no-store" });
  } catch (e) {
    throw new GitLabError(`cannot reach GitLab at ${gitlab.url} (network error)`, 0);
  }
  let data = null;
  const text = await response.text();
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const message = data && (data.message || data.error_description || data.error);
    const detail = typeof message === "string" ? message
      : Array.isArray(message) ? message.join("; ")
      : message ? Object.entries(message).map(([k, v]) => `${k} ${[].concat(v).join(", ")}`).join("; ") : `HTTP ${response.status}`;
    throw new GitLabError(detail, response.status);
  }
  return { data, headers: response.headers, status: response.status };
}

export async function exists(path) {
  try {
    await api("GET", path);
    return true;
  } catch (e) {
    if (e.status === 404) return false;
    throw e;
  }
}

export async function treeOf(project, dir, ref) {
  const paths = [];
  for (let page = 1; page; ) {
    const { data, headers } = await api("GET", `${project}/repository/tree?path=${encodeURIComponent(dir)}&ref=${encodeURIComponent(ref)}&recursive=true&per_page=100&page=${page}`);
    for (const item of data || []) if (item.type === "blob") paths.push(item.path);
    page = Number(headers.get("X-Next-Page")) || 0;
  }
  return paths;
}

export function base64(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(out);
}

export function say(text) {
  $(".sa-gitlab__status").textContent = text;
}

/** One commit with every file on the datalab's branch, then the merge request. */
export async function openMergeRequest() {
  const doc = await ready();
  if (!doc) return;
  const button = $('[data-sa-action="submit"]');
  button.disabled = true;
  let createdBranch = null;
  let project = `/projects/${encodeURIComponent(gitlab.project)}`; // where the branch goes: the catalog, or the user's fork
  const branch = branchName(doc);
  const dir = `${CONFIG.catalog_dir}/${doc.id}`;
  try {
    say("Checking the catalog's project…");
    const { data: info } = await api("GET", project);
    const upstream = `/projects/${info.id}`;
    project = upstream;
    const target = gitlab.target_branch || info.default_branch || "main";
    const known = await exists(`${upstream}/repository/files/${encodeURIComponent(`${dir}/datalab.yaml`)}?ref=${encodeURIComponent(target)}`);
    const title = `${known ? "Update" : "Add"} datalab ${doc.id} ${doc.version}`;
    let fork = null;
    if (!canPush(info)) {
      fork = await forkOf(upstream);
      project = `/projects/${fork.id}`;
    }
    const sourceId = fork ? fork.id : info.id;
    const { data: listed } = await api("GET", `${upstream}/merge_requests?source_branch=${encodeURIComponent(branch)}&state=opened`);
    const open = (Array.isArray(listed) ? listed : []).filter((mr) => (mr.source_project_id || info.id) === sourceId);
    const branchExists = await exists(`${project}/repository/branches/${encodeURIComponent(branch)}`);
    // what the branch holds before this commit: itself if it exists, else the catalog's target branch
    const before = branchExists ? await treeOf(project, dir, branch) : known ? await treeOf(upstream, dir, target) : [];
    const actions = await commitActions(doc, dir, before);
    say(`Committing ${actions.filter((a) => a.action !== "delete").length} files to ${branch}…`);
    const commit = { branch, commit_message: title, actions };
    if (!branchExists) {
      commit.start_branch = target;
      if (fork) commit.start_project = info.id; // a fork may be behind: start from the catalog itself
    }
    await api("POST", `${project}/repository/commits`, commit);
    if (!branchExists) createdBranch = branch;
    if (open.length) {
      createdBranch = null;
      done(open[0].web_url, "Merge request updated with your changes: ");
      return;
    }
    say("Opening the merge request…");
    const { data } = await api("POST", `${project}/merge_requests`, {
      source_branch: branch,
      target_branch: target,
      title,
      description: `${doc.summary}\n\nSubmitted from the store's Create page.\n\n${CONFIG.checklist}`,
      remove_source_branch: true,
      ...(fork ? { target_project_id: info.id } : {}),
    });
    createdBranch = null;
    done(data.web_url, "Merge request opened: ");
  } catch (e) {
    failed(e, await cleanUp(project, createdBranch));
  } finally {
    button.disabled = !token();
  }
}

/** One commit's actions: every file of the datalab created or updated, and what the branch
 * held before but the datalab no longer has, deleted. */
async function commitActions(doc, dir, before) {
  const files = [{ path: "datalab.yaml", bytes: V.zip.strToU8(yamlText(doc)) }];
  for (const f of state.files) files.push({ path: f.path, bytes: new Uint8Array(await f.blob.arrayBuffer()) });
  const wanted = new Set(files.map((f) => `${dir}/${f.path}`));
  const actions = files.map((f) => ({
    action: before.includes(`${dir}/${f.path}`) ? "update" : "create",
    file_path: `${dir}/${f.path}`,
    content: base64(f.bytes),
    encoding: "base64",
  }));
  for (const path of before) if (!wanted.has(path)) actions.push({ action: "delete", file_path: path });
  return actions;
}

/** A branch this attempt created is deleted when the merge request could not follow; the
 * sentence says what is left. */
async function cleanUp(project, createdBranch) {
  if (!createdBranch) return " Nothing was left half-done on GitLab.";
  try {
    await api("DELETE", `${project}/repository/branches/${encodeURIComponent(createdBranch)}`);
    return ` The branch ${createdBranch} it had created was deleted, so nothing is left half-done.`;
  } catch (again) {
    return ` The branch ${createdBranch} was created but could not be removed; pressing the button again reuses it.`;
  }
}

/** What went wrong, said once, with what the user can do next. */
function failed(e, cleanup) {
  if (e.status === 403) {
    say(`GitLab does not let this account push to ${gitlab.project} (403: ${e.message}).${cleanup} Ask the catalog's moderators for Developer access, or download the .zip and send it to them. Your datalab is kept on this page.`);
  } else if (e.status === 401) {
    keepToken(null);
    showAuth();
    say(`GitLab refused the sign-in (expired or revoked token): sign in again, then press Open merge request.${cleanup} Your datalab is kept on this page.`);
  } else {
    say(`The merge request could not be opened: ${e.message}.${cleanup} Your datalab is kept on this page; press Open merge request to try again.`);
  }
}

/** Developer access or more lets the user push branches to the catalog's project. */
export function canPush(info) {
  const p = info.permissions;
  if (!p) return true; // not told: try, a refusal is explained
  const level = Math.max((p.project_access && p.project_access.access_level) || 0, (p.group_access && p.group_access.access_level) || 0);
  return level >= 30;
}

/** The user's fork of the catalog (made once, then reused), for users who may not push to it. */
export async function forkOf(upstream) {
  say("You cannot push to the catalog's project, so the merge request comes from your fork; looking for it…");
  const { data: forks } = await api("GET", `${upstream}/forks?owned=true`);
  let fork = Array.isArray(forks) && forks.length ? forks[0] : null;
  if (!fork) {
    say("Making your fork of the catalog (once)…");
    fork = (await api("POST", `${upstream}/fork`, {})).data;
  }
  for (let i = 0; fork.import_status && fork.import_status !== "finished" && fork.import_status !== "none"; i++) {
    if (fork.import_status === "failed" || i >= 120) throw new GitLabError(`GitLab could not make your fork of ${gitlab.project} (${fork.import_status})`, 0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    fork = (await api("GET", `/projects/${fork.id}`)).data;
  }
  return fork;
}

export function done(url, text) {
  const status = $(".sa-gitlab__status");
  status.replaceChildren(text, el("a", { href: url, rel: "noopener", text: url }));
}

export const base64url = (bytes) => base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
export const randomString = (bytes) => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

export async function signIn() {
  const verifier = randomString(48);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const challenge = base64url(digest);
  const stateValue = randomString(24);
  sessionStorage.setItem(OAUTH_KEY, JSON.stringify({ verifier, state: stateValue }));
  await saveDraft();
  const query = new URLSearchParams({
    client_id: gitlab.oauth_application_id, redirect_uri: redirectUri(), response_type: "code", state: stateValue,
    scope: "api", code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(`${gitlab.url}/oauth/authorize?${query}`);
}

/** Back from GitLab's sign-in page: trade the code for a token (PKCE, no client secret). */
export async function finishSignIn() {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return;
  history.replaceState(null, "", redirectUri());
  const saved = JSON.parse(sessionStorage.getItem(OAUTH_KEY) || "null");
  sessionStorage.removeItem(OAUTH_KEY);
  if (params.has("error")) {
    say(`GitLab did not sign you in: ${params.get("error_description") || params.get("error")}.`);
    return;
  }
  if (!saved || saved.state !== params.get("state")) {
    say("The answer from GitLab does not belong to this sign-in (state differs); sign in again.");
    return;
  }
  say("Signing in…");
  try {
    const response = await fetch(`${gitlab.url}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: gitlab.oauth_application_id, code: params.get("code"), grant_type: "authorization_code",
        redirect_uri: redirectUri(), code_verifier: saved.verifier,
      }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok || !data.access_token) throw new Error(data.error_description || data.error || `HTTP ${response.status}`);
    keepToken({ kind: "oauth", value: data.access_token });
    say("");
  } catch (e) {
    say(`GitLab did not sign you in (${e.message === "Failed to fetch" ? `cannot reach ${gitlab.url}` : e.message}); try again.`);
  }
}

export async function showAuth() {
  const box = $("[data-sa-gitlab]");
  if (!gitlab) {
    $(".sa-gitlab__none", box).hidden = false;
    $(".sa-gitlab__auth", box).hidden = true;
    $('[data-sa-action="submit"]').hidden = true;
    return;
  }
  $(".sa-gitlab__where", box).textContent = `To ${gitlab.project} on ${gitlab.url}, branch ${gitlab.target_branch || "main"}.`;
  $('[data-sa-action="oauth"]', box).hidden = !gitlab.oauth_application_id;
  const auth = token();
  $(".sa-gitlab__auth", box).hidden = Boolean(auth);
  $(".sa-gitlab__who", box).hidden = !auth;
  $('[data-sa-action="submit"]').disabled = !auth;
  if (auth) {
    const who = $(".sa-gitlab__who span", box);
    who.textContent = "Signed in to GitLab.";
    try {
      const { data } = await api("GET", "/user");
      who.textContent = `Signed in to GitLab as @${data.username}.`;
    } catch (e) {
      if (e.status === 401) {
        keepToken(null);
        say("GitLab refused the token (expired or revoked); sign in again.");
        return showAuth();
      }
    }
  }
}
