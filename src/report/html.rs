//! `report.html`: one self-contained page (styles, script and the report's data inline, no
//! request leaves it) that opens offline from a CI artifact: the summary, a timeline of the
//! run, failures first with their request transcripts, filters, step statistics.

use super::RunReport;

/// The run timeline, shared with serve mode's dashboard.
pub(crate) const TIMELINE_JS: &str = include_str!("html/timeline.js");
const REPORT_JS: &str = include_str!("html/report.js");
const REPORT_CSS: &str = include_str!("html/report.css");

/// The page of `report`.
pub(crate) fn to_html(report: &RunReport) -> String {
    // Compact JSON: the 10,000-workflow run's page must stay small. Every `<` is escaped (it
    // only occurs inside JSON strings), so no `</script>` in a step name or a body can end
    // the data block early.
    // `stepStats` is left out (the page computes what it shows from the steps): for 10,000
    // workflows it is as large as the steps themselves.
    let data = match serde_json::to_value(report) {
        Ok(mut value) => {
            if let Some(object) = value.as_object_mut() {
                object.remove("stepStats");
            }
            value.to_string()
        }
        Err(e) => serde_json::json!({ "error": e.to_string() }).to_string(),
    }
    .replace('<', "\\u003c");
    let title = format!(
        "{} · {} of {} passed",
        report.run_id, report.completed, report.total_workflows
    );
    let mut page = String::with_capacity(data.len() + 32 * 1024);
    page.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing may load from anywhere: the page is its own world.
    page.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    );
    page.push_str(&format!(
        "<title>Workflow report · {}</title>\n",
        escape(&title)
    ));
    page.push_str("<style>\n");
    page.push_str(REPORT_CSS);
    page.push_str("</style>\n</head>\n<body>\n");
    page.push_str(BODY);
    page.push_str("<script type=\"application/json\" id=\"report-data\">");
    page.push_str(&data);
    page.push_str("</script>\n<script>\n");
    page.push_str(TIMELINE_JS);
    page.push_str("</script>\n<script>\n");
    page.push_str(REPORT_JS);
    page.push_str("</script>\n</body>\n</html>\n");
    page
}

const BODY: &str = r#"<header>
<h1>Workflow report</h1>
<div class="meta" id="meta"></div>
<div id="banner"></div>
<div class="cards" id="cards"></div>
</header>
<main>
<h2>Timeline</h2>
<p class="meta">One lane per workflow: grey while it waited (for a slot, a group or a dependency), then its steps coloured by status; pink for attempts that failed before a retry. Hover for a step, click a lane to open its workflow.</p>
<div id="timeline"></div>
<h2>Failures</h2>
<div id="failures"></div>
<h2>Flaky workflows</h2>
<div id="flaky"></div>
<h2>Slowest steps</h2>
<div id="stats"></div>
<h2>Workflows</h2>
<div class="filters">
<label>status <select id="filter-status"><option value="">any</option><option>completed</option><option>failed</option><option>blocked</option><option>cancelled</option><option value="flaky">flaky</option></select></label>
<label>tag <select id="filter-tag"><option value="">any</option></select></label>
<label>text <input type="search" id="filter-text" placeholder="name, id or error"></label>
<span class="meta" id="count"></span>
</div>
<div id="workflows"></div>
</main>
"#;

/// `text` safe inside HTML text.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn the_page_holds_its_data_and_loads_nothing() {
        let mut report = sample();
        report.workflows[0].workflow_name = "</script><script>alert(1)</script>".into();
        let page = to_html(&report);
        assert_eq!(
            page.matches("</script>").count(),
            3,
            "only the page's own three"
        );
        assert!(page.contains("\\u003c/script>\\u003cscript>alert(1)"));
        for external in [
            "src=\"http",
            "href=\"http",
            "src=\"//",
            "@import",
            "url(http",
        ] {
            assert!(!page.contains(external), "{external}");
        }
        let start = page.find("id=\"report-data\">").unwrap() + "id=\"report-data\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let mut data: RunReport = serde_json::from_str(&page[start..end]).unwrap();
        assert!(data.step_stats.is_empty(), "computed by the page");
        data.step_stats = report.step_stats.clone();
        assert_eq!(data, report);
    }
}
