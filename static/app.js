/* Focus and announcements for keyboard and screen-reader users (issue 20, WCAG 2.1 AA).
 *
 * Everything here only improves what the server already renders: without JavaScript every link and
 * form loads a whole page (the pager's links end in #<region>, the form errors list their fields as
 * links), so nothing depends on this file.
 *
 * - After an htmx swap the user asked for (a menu link through hx-boost, 下一页 / 上一页, a tab, a
 *   filter), focus moves to the swapped region's heading (or its table, or the region) and the
 *   polite live region #announce (partials/layout.html) says where the user is: "第 2 / 6 页", the
 *   tab, the filter's result count or the new page's title.
 * - A swap the user did not ask for (polling: the monitor, a job's progress) keeps focus where it
 *   was: the element with the same id, or the same link, in the new content.
 * - A page or fragment with a refused form (fields marked aria-invalid) focuses its first invalid
 *   field.
 * - The monitor (#monitor with data-announce-counts) announces the counts that changed.
 */
(function () {
  "use strict";

  var SITE_SUFFIX = " - 上海工会网上工作平台";
  var announceTimer = null;

  function announce(text) {
    var region = document.getElementById("announce");
    if (!region || !text) return;
    // Emptied first and filled a moment later, so the same words are read again.
    region.textContent = "";
    window.clearTimeout(announceTimer);
    announceTimer = window.setTimeout(function () { region.textContent = text; }, 120);
  }

  function textOf(el) {
    return el ? el.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function focusOn(el) {
    if (!el) return false;
    var natural = el.matches("a[href], button, input, select, textarea, [tabindex]");
    if (!natural) el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: false });
    return document.activeElement === el;
  }

  function firstInvalid(root) {
    return (root || document).querySelector(
      "[aria-invalid='true']:not([type=hidden]):not([disabled])");
  }

  /* The element a region's focus goes to: its first heading, else its first table, else itself. */
  function landing(region) {
    return region.querySelector("h1, h2, h3, h4") || region.querySelector("table") || region;
  }

  function pageTitle() {
    var h1 = document.querySelector("#main h1");
    if (h1) return textOf(h1);
    return document.title.replace(SITE_SUFFIX, "");
  }

  function pagerPosition(region) {
    var at = region.querySelector(".pager-page");
    return at ? textOf(at) : "";
  }

  /* What started the request: "boost", "pager", "tab", "filter", "other" (user), or null (polling,
   * load, history): only a user's action moves focus. */
  function cause(detail) {
    var config = detail.requestConfig || {};
    var event = config.triggeringEvent;
    if (!event || event.isTrusted === false || event.type === "load") return null;
    var elt = config.elt || detail.elt;  // the element that asked (detail.elt is the swapped one)
    if (elt && elt.closest) {
      if (elt.closest(".pager")) return "pager";
      if (elt.closest(".tabs")) return "tab";
      if (elt.closest("form.filters")) return "filter";
    }
    return detail.boosted ? "boost" : "other";
  }

  /* ---- keeping focus through swaps nobody asked for ---- */
  var kept = null;
  var countsBefore = null;

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var active = document.activeElement;
    var target = evt.detail.target;
    kept = null;
    if (active && active !== document.body && target && target.contains(active)) {
      kept = {
        id: active.id,
        href: active.getAttribute("href"),
        text: textOf(active),
        tag: active.tagName,
        index: Array.prototype.indexOf.call(target.querySelectorAll(active.tagName.toLowerCase()), active)
      };
    }
    var monitor = target && (target.id === "monitor" ? target : target.querySelector && target.querySelector("#monitor"));
    countsBefore = monitor ? counts(monitor) : null;
  });

  function findKept(kept, root) {
    if (kept.id) {
      var byId = document.getElementById(kept.id);
      if (byId) return byId;
    }
    var candidates = root.querySelectorAll(kept.tag.toLowerCase());
    // The same place in the new content (its text may be a count that changed), else the same link.
    var same = candidates[kept.index];
    if (same && same.getAttribute("href") === kept.href) return same;
    for (var i = 0; i < candidates.length; i++) {
      var c = candidates[i];
      if (c.getAttribute("href") === kept.href && textOf(c) === kept.text) return c;
    }
    return null;
  }

  /* ---- the monitor's counts ---- */
  function counts(monitor) {
    var out = {};
    var cells = monitor.querySelectorAll("#monitor-totals [data-count]");
    for (var i = 0; i < cells.length; i++) {
      var label = textOf(cells[i].parentNode.querySelector(".stat-label"));
      out[label] = textOf(cells[i]);
    }
    return out;
  }

  function countChanges(before, monitor) {
    if (!before) return "";
    var after = counts(monitor);
    var changed = [];
    for (var label in after) {
      if (Object.prototype.hasOwnProperty.call(after, label) && before[label] !== undefined && before[label] !== after[label]) {
        changed.push(label + " " + before[label] + " → " + after[label]);
      }
    }
    return changed.length ? "监控数据已更新：" + changed.join("，") : "";
  }

  /* ---- after a swap ---- */
  var handled = typeof WeakSet === "function" ? new WeakSet() : null;

  document.addEventListener("htmx:afterSettle", function (evt) {
    var detail = evt.detail;
    // A boosted page settles once per child of <body>: act once per request.
    if (handled && detail.xhr) {
      if (handled.has(detail.xhr)) return;
      handled.add(detail.xhr);
    }
    var why = cause(detail);
    var before = countsBefore;
    var wasKept = kept;
    kept = null;
    countsBefore = null;
    // After htmx's own settling and scrolling (show:top of a boosted page).
    window.setTimeout(function () { afterSwap(detail, why, before, wasKept); }, 0);
  });

  function afterSwap(detail, why, before, wasKept) {
    var main = document.getElementById("main") || document.body;
    var target = detail.target;
    // An outerHTML swap replaced the target: the new element of the same id is the region.
    var region = target && !target.isConnected && target.id ? document.getElementById(target.id) : target;
    if (detail.boosted || !region || !region.isConnected || region === document.body) region = main;

    var invalid = firstInvalid(region);
    if (why && invalid) {
      focusOn(invalid);
      return;
    }
    if (why === "boost") {
      focusOn(document.querySelector("#main h1") || document.getElementById("main"));
      announce(pageTitle());
      return;
    }
    if (why === "pager" || why === "tab" || why === "filter") {
      focusOn(landing(region));
      var position = pagerPosition(region);
      if (why === "pager") {
        announce(position || pageTitle());
      } else if (why === "tab") {
        // The tab chosen: its new self when the tabs were swapped too (same href), else the link.
        var asked = (detail.requestConfig || {}).elt;
        var href = asked && asked.getAttribute("href");
        var tab = asked;
        var links = document.querySelectorAll(".tabs a");
        for (var i = 0; i < links.length; i++) {
          if (href && links[i].getAttribute("href") === href) { tab = links[i]; break; }
        }
        announce([textOf(tab), position].filter(Boolean).join("，") || pageTitle());
      } else {
        var summary = region.querySelector(".pager-summary");
        var empty = region.querySelector("td.empty");
        announce(textOf(summary) || textOf(empty) || pageTitle());
      }
      return;
    }
    var active = document.activeElement;
    var lost = !active || active === document.body || !active.isConnected;
    if (why === null) {
      // Polling: focus stays on the same thing; the monitor says what changed.
      if (lost && wasKept) {
        var again = findKept(wasKept, region);
        if (again) again.focus({ preventScroll: true });
      }
      var monitor = region.id === "monitor" ? region : region.querySelector && region.querySelector("#monitor");
      if (monitor) announce(countChanges(before, monitor));
      return;
    }
    // Any other swap the user asked for (a row's form, an inline confirmation): if the focused
    // element went away with the old content, land in the new content rather than on <body> —
    // on its first field when it brought a form (never on a button, which Enter would press).
    if (lost) focusOn(region.querySelector("input:not([type=hidden]), select, textarea") || landing(region));
  }

  document.addEventListener("htmx:historyRestore", function () {
    window.setTimeout(function () {
      focusOn(document.querySelector("#main h1") || document.getElementById("main"));
      announce(pageTitle());
    }, 0);
  });

  /* A whole page answered with a refused form (JavaScript on, no htmx: e.g. a file upload):
   * the first invalid field takes focus. */
  function onLoad() {
    var invalid = firstInvalid(document.getElementById("main"));
    if (invalid) focusOn(invalid);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onLoad);
  } else {
    onLoad();
  }
})();
