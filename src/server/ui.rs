//! The stewards' web page: plain HTML, CSS and JavaScript modules from
//! `ui/` at the repository root, compiled into the binary, so `nayose
//! serve` is the only thing to run and there is no build step.
//!
//! The page talks to the same `/v1` API as any client, with the token the
//! steward typed (kept in the tab's `sessionStorage`, sent as a bearer
//! header; no cookies, so there is no CSRF surface). Every asset is served
//! with a strict Content-Security-Policy — scripts, styles and connections
//! from this origin only, no inline scripts — and `nosniff`; the page puts
//! every value it shows into the DOM as text, never as HTML. This module
//! knows nothing of the page's logic; it only hands out the files.

use super::AppState;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Same origin only; no inline script or style elements, no plugins, no
/// framing, no `<base>` tricks. (Bars of the explanation set widths via the
/// CSSOM, which a CSP does not restrict.)
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($path:literal, $file:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_str!(concat!("../../ui/", $file)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the page. A new module is a new line here.
const ASSETS: &[Asset] = &[
    asset!("/", "index.html", "text/html; charset=utf-8"),
    asset!("/ui/app.css", "app.css", "text/css; charset=utf-8"),
    asset!("/ui/favicon.svg", "favicon.svg", "image/svg+xml"),
    asset!("/ui/app.js", "app.js", JS),
    asset!("/ui/api.js", "api.js", JS),
    asset!("/ui/dom.js", "dom.js", JS),
    asset!("/ui/diff.js", "diff.js", JS),
    asset!("/ui/i18n.js", "i18n.js", JS),
    asset!("/ui/queue.js", "queue.js", JS),
    asset!("/ui/proposal.js", "proposal.js", JS),
    asset!("/ui/entity.js", "entity.js", JS),
    asset!("/ui/search.js", "search.js", JS),
    asset!("/ui/audit.js", "audit.js", JS),
    asset!("/ui/group.js", "group.js", JS),
    asset!("/ui/merges.js", "merges.js", JS),
];

pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for a in ASSETS {
        r = r.route(a.path, get(move || async move { serve(a) }));
    }
    r
}

fn serve(a: &'static Asset) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            // A new binary may bring new files under the same names.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        a.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page may only load what it is served with: every module an
    /// asset imports, and every file `index.html` names, is in `ASSETS`.
    #[test]
    fn every_referenced_file_is_served() {
        let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        for a in ASSETS {
            for quote in ['"', '\''] {
                for part in a.body.split(quote).skip(1).step_by(2) {
                    let path = if let Some(m) = part.strip_prefix("./") {
                        format!("/ui/{m}")
                    } else if part.starts_with("/ui/") {
                        part.to_string()
                    } else {
                        continue;
                    };
                    if path.ends_with(".js") || path.ends_with(".css") || path.ends_with(".svg") {
                        assert!(
                            served.contains(&path.as_str()),
                            "{} names {path}, which is not served",
                            a.path
                        );
                    }
                }
            }
        }
    }

    /// No inline script or style, no handler attributes: the CSP would
    /// block them, so they would only be dead code that looks alive.
    #[test]
    fn index_has_nothing_inline() {
        let html = ASSETS[0].body;
        assert!(!html.contains("<script>"), "inline script");
        assert!(!html.contains("<style"), "inline style");
        assert!(!html.contains(" style="), "style attribute");
        assert!(!html.contains(" onclick="), "handler attribute");
        for a in ASSETS.iter().filter(|a| a.content_type == JS) {
            assert!(!a.body.contains("innerHTML"), "{}: innerHTML", a.path);
            assert!(!a.body.contains("eval("), "{}: eval", a.path);
        }
    }
}
