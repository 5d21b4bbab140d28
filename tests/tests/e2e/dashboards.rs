//! The Grafana dashboards under `dashboards/`: each imports as it is (Grafana's dashboard JSON
//! model with a `DS_PROMETHEUS` input), and every series a panel queries is one that
//! `investigator serve` exposes on `/metrics` from the first scrape after start, before any
//! traffic, and still after traffic. A panel on a metric the service does not expose would
//! stay empty (and a rate over a series born with its first event misses that event); this
//! test names it instead. The alert rules beside them (`alerts.yml`) are held to the same, and
//! pass `promtool`'s checks and unit tests. A read replica (`serve --api-only`) is held to the
//! same for the metrics it moves.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use investigator_events::thoth::MessageKind;
use investigator_tests::fake_kube::argo_status;
use investigator_tests::{Service, TestDatabase, TestKafka, eventually};
use serde_json::Value;

use crate::pipeline::messages::{PYPI, unresolved};
use crate::pipeline::publish;
use crate::workflows::{cluster, serve_with};

const DATASOURCE: &str = "${DS_PROMETHEUS}";
/// The metrics a read replica (`serve --api-only`) moves: its API cache, the events its writes
/// append (over a primary), whether its database is a standby and how far behind.
const READ_REPLICA_METRICS: [&str; 4] = [
    "investigator_api_cache_requests_total",
    "investigator_events_appended_total",
    "investigator_database_standby",
    "investigator_standby_replay_lag_seconds",
];
const MIDDLETIER: &str = "thoth-middletier";
const FILES: [&str; 4] =
    ["failures-and-dead-letters.json", "ingest-and-lag.json", "knowledge-growth.json", "workflows.json"];

/// PromQL's functions (an identifier followed by `(` must be one of them).
const FUNCTIONS: &str = "\
    abs absent absent_over_time acos acosh asin asinh atan atanh avg avg_over_time bottomk ceil changes \
    clamp clamp_max clamp_min cos cosh count count_over_time count_values day_of_month day_of_week \
    day_of_year days_in_month deg delta deriv exp floor group histogram_avg histogram_count \
    histogram_fraction histogram_quantile histogram_stddev histogram_stdvar histogram_sum holt_winters hour \
    idelta increase irate label_join label_replace last_over_time limitk limit_ratio ln log10 log2 \
    mad_over_time max max_over_time min min_over_time minute month predict_linear present_over_time quantile \
    quantile_over_time rad rate resets round scalar sgn sin sinh sort sort_by_label sort_by_label_desc \
    sort_desc sqrt stddev stddev_over_time stdvar stdvar_over_time sum sum_over_time tan tanh time timestamp \
    topk vector year";

fn is_function(word: &str) -> bool {
    FUNCTIONS.split_whitespace().any(|function| function == word)
}

/// PromQL's keywords; the grouping ones take a list of label names in parentheses.
const KEYWORDS: &[&str] = &["and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "start", "end"];
const GROUPINGS: &[&str] = &["by", "without", "on", "ignoring", "group_left", "group_right"];

fn dashboards_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate is inside the workspace").join("dashboards")
}

/// Every dashboard file: its name and its JSON.
fn dashboards() -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dashboards_dir()).expect("the dashboards directory") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|extension| extension == "json") {
            let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("a readable dashboard");
            let json = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{name} is not JSON: {error}"));
            found.push((name, json));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// One query of one panel.
struct Query {
    place: String,
    expr: String,
}

fn panels(dashboard: &Value) -> Vec<&Value> {
    dashboard["panels"].as_array().map(|panels| panels.iter().collect()).unwrap_or_default()
}

/// The queries of every panel, then of every alert rule (`dashboards/alerts.yml`).
fn queries(dashboards: &[(String, Value)]) -> Vec<Query> {
    let mut all = panel_queries(dashboards);
    all.extend(alert_queries());
    all
}

/// Every alert rule's name and expression.
fn alert_queries() -> Vec<Query> {
    let text = std::fs::read_to_string(dashboards_dir().join("alerts.yml")).expect("dashboards/alerts.yml");
    let rules: serde_json::Value = serde_yaml_ng::from_str(&text).expect("alerts.yml is YAML");
    let mut all = Vec::new();
    for group in rules["groups"].as_array().expect("groups") {
        for rule in group["rules"].as_array().expect("rules") {
            all.push(Query {
                place: format!("alerts.yml: alert {}", rule["alert"].as_str().unwrap_or_default()),
                expr: rule["expr"].as_str().unwrap_or_default().to_owned(),
            });
        }
    }
    assert!(all.len() >= 6, "the alert rules: {}", all.len());
    all
}

fn panel_queries(dashboards: &[(String, Value)]) -> Vec<Query> {
    let mut all = Vec::new();
    for (file, dashboard) in dashboards {
        for panel in panels(dashboard) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                all.push(Query {
                    place: format!("{file}: panel {:?}", panel["title"].as_str().unwrap_or_default()),
                    expr: target["expr"].as_str().unwrap_or_default().to_owned(),
                });
            }
        }
    }
    all
}

/// What keeps `dashboard` from importing as it is into Grafana with a Prometheus data source.
fn shape_problems(file: &str, dashboard: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |text: String| problems.push(format!("{file}: {text}"));
    let input =
        dashboard["__inputs"].as_array().and_then(|inputs| inputs.iter().find(|i| i["name"] == "DS_PROMETHEUS"));
    match input {
        Some(input) if input["type"] == "datasource" && input["pluginId"] == "prometheus" => {}
        _ => problem("no __inputs entry DS_PROMETHEUS of type datasource, pluginId prometheus".to_owned()),
    }
    if dashboard["schemaVersion"] != 39 {
        problem(format!("schemaVersion {} (39 expected)", dashboard["schemaVersion"]));
    }
    for key in ["title", "uid"] {
        if dashboard[key].as_str().is_none_or(str::is_empty) {
            problem(format!("no {key}"));
        }
    }
    if !dashboard["id"].is_null() {
        problem("an id: an exported dashboard has \"id\": null, so importing creates it".to_owned());
    }
    let panels = panels(dashboard);
    if panels.is_empty() {
        problem("no panels".to_owned());
    }
    let mut ids = BTreeSet::new();
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or_default();
        if title.is_empty() {
            problem("a panel without a title".to_owned());
        }
        if !matches!(panel["type"].as_str(), Some("timeseries" | "stat")) {
            problem(format!("panel {title:?}: type {} (timeseries or stat expected)", panel["type"]));
        }
        if !panel["id"].as_u64().is_some_and(|id| ids.insert(id)) {
            problem(format!("panel {title:?}: a missing or repeated id {}", panel["id"]));
        }
        if !["h", "w", "x", "y"].iter().all(|key| panel["gridPos"][key].is_u64()) {
            problem(format!("panel {title:?}: no gridPos"));
        }
        if panel["datasource"]["uid"] != DATASOURCE || panel["datasource"]["type"] != "prometheus" {
            problem(format!("panel {title:?}: datasource {} is not {DATASOURCE}", panel["datasource"]));
        }
        let targets = panel["targets"].as_array().map(Vec::as_slice).unwrap_or_default();
        if targets.is_empty() {
            problem(format!("panel {title:?}: no targets"));
        }
        let mut references = BTreeSet::new();
        for target in targets {
            if target["expr"].as_str().is_none_or(|expr| expr.trim().is_empty()) {
                problem(format!("panel {title:?}: a target without expr"));
            }
            if !target["refId"].as_str().is_some_and(|reference| references.insert(reference.to_owned())) {
                problem(format!("panel {title:?}: a missing or repeated refId"));
            }
            if !target["datasource"].is_null() && target["datasource"]["uid"] != DATASOURCE {
                problem(format!("panel {title:?}: a target's datasource {} is not {DATASOURCE}", target["datasource"]));
            }
        }
    }
    problems
}

/// A series a query selects: the metric and its `label="value"` matchers (other matchers,
/// `=~` and the negative ones, are not checked).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Selector {
    metric: String,
    labels: Vec<(String, String)>,
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.metric)?;
        if !self.labels.is_empty() {
            let labels: Vec<_> = self.labels.iter().map(|(name, value)| format!("{name}=\"{value}\"")).collect();
            write!(f, "{{{}}}", labels.join(","))?;
        }
        Ok(())
    }
}

fn selector(metric: &str, labels: &[(&str, &str)]) -> Selector {
    let labels = labels.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
    Selector { metric: metric.to_owned(), labels }
}

#[derive(Debug, PartialEq)]
enum Token {
    Identifier(String),
    /// `{...}`: its equality matchers.
    Matchers(Vec<(String, String)>),
    Open,
    Close,
    /// Anything else: numbers, durations, `[...]` ranges, `$variables`, strings, operators.
    Other,
}

fn is_identifier_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// A quoted string starting at `chars[at]`: its content and the index after it.
fn quoted(chars: &[char], at: usize) -> (String, usize) {
    let quote = chars[at];
    let (mut text, mut i) = (String::new(), at + 1);
    while i < chars.len() && chars[i] != quote {
        if chars[i] == '\\' && quote != '`' && i + 1 < chars.len() {
            i += 1;
        }
        text.push(chars[i]);
        i += 1;
    }
    (text, i + 1)
}

/// The equality matchers of the braces opening at `chars[at]`, and the index after them.
fn matchers(chars: &[char], at: usize) -> (Vec<(String, String)>, usize) {
    let (mut found, mut i) = (Vec::new(), at + 1);
    let mut name = String::new();
    let mut operator = String::new();
    while i < chars.len() && chars[i] != '}' {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            let (value, next) = quoted(chars, i);
            if operator == "=" {
                found.push((std::mem::take(&mut name), value));
            }
            (name, operator, i) = (String::new(), String::new(), next);
            continue;
        }
        if is_identifier_char(c) {
            name.push(c);
        } else if matches!(c, '=' | '!' | '~') {
            operator.push(c);
        }
        i += 1;
    }
    (found, i + 1)
}

fn tokens(expr: &str) -> Vec<Token> {
    let chars: Vec<char> = expr.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || c == '.' || c == '$' {
            // A number, a duration (`5m`, `1e3`) or a Grafana variable: never a metric.
            i += 1;
            while i < chars.len() && (is_identifier_char(chars[i]) || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Other);
        } else if is_identifier_start(c) {
            let start = i;
            while i < chars.len() && is_identifier_char(chars[i]) {
                i += 1;
            }
            tokens.push(Token::Identifier(chars[start..i].iter().collect()));
        } else if c == '{' {
            let (found, next) = matchers(&chars, i);
            tokens.push(Token::Matchers(found));
            i = next;
        } else if c == '[' {
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            tokens.push(Token::Other);
            i += 1;
        } else if matches!(c, '"' | '\'' | '`') {
            tokens.push(Token::Other);
            i = quoted(&chars, i).1;
        } else {
            match c {
                '(' => tokens.push(Token::Open),
                ')' => tokens.push(Token::Close),
                c if c.is_whitespace() => {}
                _ => tokens.push(Token::Other),
            }
            i += 1;
        }
    }
    tokens
}

/// The series `expr` selects, or what is wrong with it (an unknown function).
fn selectors(expr: &str) -> Result<Vec<Selector>, String> {
    let tokens = tokens(expr);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Identifier(word) if GROUPINGS.contains(&word.as_str()) => {
                // `by (le, outcome)`: label names, skipped up to the closing parenthesis.
                i += 1;
                if tokens.get(i) == Some(&Token::Open) {
                    while i < tokens.len() && tokens[i] != Token::Close {
                        i += 1;
                    }
                }
            }
            Token::Identifier(word) if tokens.get(i + 1) == Some(&Token::Open) && !is_function(word) => {
                return Err(format!("{word}(...) is no PromQL function"));
            }
            Token::Identifier(word) if KEYWORDS.contains(&word.as_str()) || is_function(word) => {}
            Token::Identifier(word) => {
                let labels = match tokens.get(i + 1) {
                    Some(Token::Matchers(labels)) => {
                        i += 1;
                        labels.clone()
                    }
                    _ => Vec::new(),
                };
                found.push(Selector { metric: word.clone(), labels });
            }
            Token::Matchers(labels) => {
                // `{__name__="metric", ...}`
                let name = labels.iter().find(|(label, _)| label == "__name__");
                let Some((_, metric)) = name else {
                    return Err("a selector without a metric name".to_owned());
                };
                let labels = labels.iter().filter(|(label, _)| label != "__name__").cloned().collect();
                found.push(Selector { metric: metric.clone(), labels });
            }
            _ => {}
        }
        i += 1;
    }
    if found.is_empty() {
        return Err("no metric".to_owned());
    }
    Ok(found)
}

/// Every series seen on `/metrics` so far: metric name, then each series' labels as
/// `,name="value",...,`.
#[derive(Default)]
struct Exposed(BTreeMap<String, BTreeSet<String>>);

impl Exposed {
    fn add(&mut self, text: &str) {
        for line in text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()) {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            let labels = match line[end..].strip_prefix('{') {
                Some(rest) => rest.rfind('}').map_or("", |close| &rest[..close]),
                None => "",
            };
            self.0.entry(line[..end].to_owned()).or_default().insert(format!(",{labels},"));
        }
    }

    fn has(&self, wanted: &Selector) -> bool {
        self.0.get(&wanted.metric).is_some_and(|series| {
            series.iter().any(|labels| {
                wanted.labels.iter().all(|(name, value)| labels.contains(&format!(",{name}=\"{value}\",")))
            })
        })
    }

    async fn scrape(&mut self, service: &Service) {
        let (status, body) = service.get("/metrics").await;
        assert_eq!(status, 200, "{body}");
        self.add(&body);
    }

    /// The wanted selectors one scrape does not show, each with the panels that query it.
    fn missing(&self, wanted: &BTreeMap<Selector, Vec<String>>) -> Vec<String> {
        wanted
            .iter()
            .filter(|(selector, _)| !self.has(selector))
            .map(|(selector, places)| format!("{selector}, queried by {}", places.join("; ")))
            .collect()
    }

    /// Scrapes until `wanted` has been seen, calling `nudge` before each scrape.
    async fn wait_for(&mut self, service: &Service, wanted: &Selector, mut nudge: impl FnMut()) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            nudge();
            self.scrape(service).await;
            if self.has(wanted) {
                return;
            }
            assert!(Instant::now() < deadline, "{wanted} never appeared on /metrics");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The sum of every sample of `metric` in an exposition.
fn total(text: &str, metric: &str) -> f64 {
    text.lines()
        .filter(|line| line.strip_prefix(metric).is_some_and(|rest| rest.starts_with(['{', ' '])))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn every_dashboard_is_importable_and_names_its_metrics() {
    let dashboards = dashboards();
    let names: Vec<&str> = dashboards.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, FILES, "the dashboards");
    let mut problems: Vec<String> =
        dashboards.iter().flat_map(|(file, dashboard)| shape_problems(file, dashboard)).collect();
    let mut uids = BTreeSet::new();
    for (file, dashboard) in &dashboards {
        if !uids.insert(dashboard["uid"].as_str().unwrap_or_default()) {
            problems.push(format!("{file}: uid {} is another dashboard's", dashboard["uid"]));
        }
    }
    for query in queries(&dashboards) {
        if let Err(error) = selectors(&query.expr) {
            problems.push(format!("{}: {error}: {}", query.place, query.expr));
        }
    }
    assert!(problems.is_empty(), "the dashboards would not import or query as they are:\n{}", problems.join("\n"));
}

/// The alert rules load into Prometheus (`promtool check rules`) and each fires when, and only
/// when, its unit tests say (`promtool test rules dashboards/alerts.test.yml`).
#[test]
fn the_alert_rules_pass_promtool() {
    for arguments in [["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]] {
        let output = std::process::Command::new("promtool")
            .args(arguments)
            .current_dir(dashboards_dir())
            .output()
            .expect("promtool runs (scripts/install-system.sh installs Debian's prometheus package)");
        assert!(
            output.status.success(),
            "promtool {}:\n{}{}",
            arguments.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn queries_are_read_as_prometheus_reads_them() {
    let expr = "histogram_quantile(0.95, sum by (le) (rate(investigator_batch_seconds_bucket[$__rate_interval]))) \
                / on (job) group_left sum(x_total{outcome=\"hit\", kind=~\"a|b\", reason!=\"c\"} offset 1h) \
                + max without (instance) ({__name__=\"up\", job='j'}) * 1e3";
    let found = selectors(expr).expect("a query");
    assert_eq!(
        found,
        [
            selector("investigator_batch_seconds_bucket", &[]),
            selector("x_total", &[("outcome", "hit")]),
            selector("up", &[("job", "j")]),
        ]
    );
    assert!(selectors("sum(rat(x_total[5m]))").is_err(), "a misspelt function is reported");
    let mut exposed = Exposed::default();
    exposed.add("# TYPE x_total counter\nx_total{outcome=\"hit,miss\",kind=\"a\"} 1\nup 1\n");
    assert!(exposed.has(&selector("x_total", &[("kind", "a")])));
    assert!(!exposed.has(&selector("x_total", &[("outcome", "hit")])));
    assert!(exposed.has(&selector("up", &[])));
}

/// Checks that `/metrics` shows every series a panel queries right after start, with no
/// message sent, then drives every kind of traffic the dashboards chart through the service
/// and checks that one scrape still shows them all.
#[tokio::test(flavor = "multi_thread")]
async fn every_series_a_panel_queries_is_exposed_from_start_and_after_traffic() {
    let dashboards = dashboards();
    let mut wanted: BTreeMap<Selector, Vec<String>> = BTreeMap::new();
    for query in queries(&dashboards) {
        let found = selectors(&query.expr).unwrap_or_else(|error| panic!("{}: {error}", query.place));
        for selector in found {
            wanted.entry(selector).or_default().push(query.place.clone());
        }
    }

    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    let settings = [
        // One pending workflow per namespace: the second waits in the outbox (workflows_waiting).
        ("ARGO_PENDING_WORKFLOW_LIMIT", "1"),
        // A handler panic: an exception and a handler restart.
        ("INVESTIGATOR_INJECT_PANIC", "SolverScheduler:1"),
        // Thoth's metrics mode too: message_count_by_version.
        ("THOTH_CONSUMER_MODE", r#"["middletier", "backend", "metrics"]"#),
        ("INVESTIGATOR_API_CACHE_TTL_MS", "600000"),
        // The graph refresh every second, always held back (so it adds no workflows here).
        ("INVESTIGATOR_LEARNING_DRIVERS", "refresh"),
        ("INVESTIGATOR_REFRESH_INTERVAL_S", "1"),
        ("INVESTIGATOR_LEARNING_MAX_PENDING_WORKFLOWS", "0"),
        ("INVESTIGATOR_API_TOKEN", "s3cret"),
    ];
    let service = serve_with(&cluster, &kafka, &database, &settings).await;

    // Idle: nothing published, nothing requested. The partitions' offsets appear once the
    // consumer is assigned them, which takes the broker a moment; nothing else waits.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (at_start, idle_text) = loop {
        let (status, text) = service.get("/metrics").await;
        assert_eq!(status, 200, "{text}");
        let mut idle = Exposed::default();
        idle.add(&text);
        let missing = idle.missing(&wanted);
        if missing.is_empty() || Instant::now() > deadline {
            break (missing, text);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(at_start.is_empty(), "right after start, before any traffic, /metrics lacks:\n{}", at_start.join("\n"));
    for counter in ["thoth_investigator_processed_total", "investigator_records_total", "investigator_batches_total"] {
        assert_eq!(total(&idle_text, counter), 0.0, "{counter}: the idle check saw traffic");
    }
    assert_eq!(cluster.kube.count(MIDDLETIER), 0, "a workflow before any traffic");

    let mut exposed = Exposed::default();

    // Messages: processed, scheduled workflows, records (one a duplicate request), batches,
    // offsets, versions; the first attempt panics.
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI), unresolved("flask", "2.0.1", PYPI)]).await;
    exposed.wait_for(&service, &selector("investigator_handler_restarts_total", &[]), || {}).await;
    exposed.wait_for(&service, &selector("message_count_by_version_total", &[]), || {}).await;
    // Two solver workflows: one submitted, the other waiting behind it.
    eventually("one workflow on the cluster", Duration::from_secs(30), || async {
        cluster.kube.count(MIDDLETIER) == 1
    })
    .await;
    exposed.wait_for(&service, &selector("investigator_workflows_waiting", &[("namespace", MIDDLETIER)]), || {}).await;
    exposed
        .wait_for(&service, &selector("investigator_workflow_launches_total", &[("outcome", "created")]), || {})
        .await;

    // The workflow starts: a transition recorded, and the second one submitted.
    let first = cluster.kube.created_names().remove(0);
    cluster.kube.set_status(MIDDLETIER, &first, argo_status("Running")).expect("the workflow");
    exposed.wait_for(&service, &selector("investigator_workflow_transitions_total", &[]), || {}).await;
    eventually("the second workflow submitted", Duration::from_secs(30), || async {
        cluster.kube.count(MIDDLETIER) == 2
    })
    .await;
    // The watch cut off with its history gone: an error, then a relist.
    let mut cuts = 0;
    exposed
        .wait_for(&service, &selector("investigator_workflow_watch_errors_total", &[]), || {
            cuts += 1;
            if cuts % 10 == 1 {
                cluster.kube.compact_history();
                cluster.kube.drop_watches();
            }
        })
        .await;

    // Records that become dead letters: not JSON, and a version no handler accepts.
    let topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    kafka.send_raw(&topic, b"{\"package_name\": ").await;
    let unknown_version = r#"{"version": "v99", "component_name": "c", "service_version": "1", "package_name": "flask",
        "package_version": "2.0.1", "index_url": "https://pypi.org/simple", "solver": null}"#;
    kafka.send_raw(&topic, unknown_version.as_bytes()).await;
    exposed
        .wait_for(&service, &selector("investigator_dead_letters_total", &[("reason_code", "malformed_json")]), || {})
        .await;
    exposed
        .wait_for(
            &service,
            &selector("investigator_dead_letters_total", &[("reason_code", "unknown_schema_version")]),
            || {},
        )
        .await;

    // An operator halts a topic and resumes it.
    let base = MessageKind::UnresolvedPackage.base_name();
    assert_eq!(service.post(&format!("/halt/{base}"), Some("s3cret"), b"").await.0, 200);
    exposed
        .wait_for(&service, &selector("thoth_investigator_halted_topics", &[("base_topic_name", base)]), || {})
        .await;
    assert_eq!(service.post(&format!("/resume/{base}"), Some("s3cret"), b"").await.0, 200);

    // A cached API read twice: a miss, then a hit.
    for _ in 0..2 {
        let (status, body) = service.get("/api/v1/python-package-index").await;
        assert_eq!(status, 200, "{body}");
    }
    exposed.wait_for(&service, &selector("investigator_api_cache_requests_total", &[("outcome", "hit")]), || {}).await;

    // After the traffic, one scrape shows every series: none went away (a gauge reset, a
    // namespace whose outbox emptied).
    let mut after = Exposed::default();
    after.scrape(&service).await;
    let missing = after.missing(&wanted);
    assert!(
        missing.is_empty(),
        "after traffic, /metrics lacks:\n{}\n\nexposed: {:?}",
        missing.join("\n"),
        after.0.keys().collect::<Vec<_>>()
    );
    drop(service);
}

/// A read replica shows, from its first scrape, every series that a panel or an alert queries
/// of the metrics it moves (the API cache's panels work before its first request), and none of
/// the consumers' per-topic series, which it never moves.
#[tokio::test(flavor = "multi_thread")]
async fn a_read_replica_exposes_the_series_queried_of_its_metrics_from_start() {
    let mut wanted: BTreeMap<Selector, Vec<String>> = BTreeMap::new();
    for query in queries(&dashboards()) {
        let found = selectors(&query.expr).unwrap_or_else(|error| panic!("{}: {error}", query.place));
        for selector in found.into_iter().filter(|selector| READ_REPLICA_METRICS.contains(&selector.metric.as_str())) {
            wanted.entry(selector).or_default().push(query.place.clone());
        }
    }
    assert!(
        wanted.keys().any(|selector| selector.metric == "investigator_api_cache_requests_total"),
        "the API cache's panels: {wanted:?}"
    );

    let database = TestDatabase::migrated().await;
    let mut env = database.vars();
    env.push(("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()));
    let replica = Service::start_with(&["--api-only"], &env).await;
    let mut exposed = Exposed::default();
    exposed.scrape(&replica).await;
    let missing = exposed.missing(&wanted);
    assert!(missing.is_empty(), "right after a read replica starts, /metrics lacks:\n{}", missing.join("\n"));
    for consumers in
        ["thoth_investigator_processed_total", "thoth_investigator_halted_topics", "investigator_records_total"]
    {
        assert!(!exposed.0.contains_key(consumers), "{consumers}: a read replica consumes nothing");
    }
}

/// Prometheus (Debian's 2.42) scraping an idle service every second: every expression of every
/// panel and of every alert rule, Grafana's `$__rate_interval` given a value, answers with at
/// least one series. A panel whose expression Prometheus refuses or finds nothing for would be
/// an empty panel; this test names it.
#[tokio::test(flavor = "multi_thread")]
async fn every_panel_and_alert_expression_answers_on_a_real_prometheus() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    // Thoth's metrics mode too, whose counter a panel charts.
    let settings = [("THOTH_CONSUMER_MODE", r#"["middletier", "backend", "metrics"]"#)];
    let service = serve_with(&cluster, &kafka, &database, &settings).await;
    let prometheus = Prometheus::scraping(&service).await;
    let client = reqwest::Client::new();
    let query = |expr: String| {
        let client = client.clone();
        let url = format!("http://{}/api/v1/query", prometheus.address);
        async move {
            let text = client
                .get(&url)
                .query(&[("query", expr.as_str())])
                .send()
                .await
                .expect("Prometheus answers")
                .text()
                .await
                .expect("Prometheus answers in full");
            serde_json::from_str::<Value>(&text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
        }
    };
    // Enough scrapes for a rate over 20 s and a deriv over 5 minutes.
    eventually("Prometheus has scraped the service five times", Duration::from_secs(60), || {
        let answer = query("count_over_time(up{job=\"investigator\"}[1m]) >= 5".to_owned());
        async move { answer.await["data"]["result"].as_array().is_some_and(|result| !result.is_empty()) }
    })
    .await;
    let mut empty = Vec::new();
    for item in queries(&dashboards()) {
        let expr = item.expr.replace("$__rate_interval", "20s");
        let answer = query(expr.clone()).await;
        let series = answer["data"]["result"].as_array().map_or(0, Vec::len);
        if answer["status"] != "success" || series == 0 {
            empty.push(format!("{}: {expr}: {answer}", item.place));
        }
    }
    // The alert rules' expressions select series; their thresholds make them empty when all is
    // well, so each is asked without its comparison.
    assert!(empty.iter().all(|line| line.starts_with("alerts.yml")), "panels without a series:\n{}", empty.join("\n"));
    for item in alert_queries() {
        let selecting = item.expr.split(" > ").next().unwrap_or_default().split(" and ").next().unwrap_or_default();
        let answer = query(selecting.to_owned()).await;
        assert!(
            answer["data"]["result"].as_array().is_some_and(|result| !result.is_empty()),
            "{}: {selecting}: {answer}",
            item.place
        );
    }
}

/// A Prometheus server of one test's own, scraping one service every second; stopped when
/// dropped.
struct Prometheus {
    address: std::net::SocketAddr,
    child: std::process::Child,
    _directory: tempfile::TempDir,
}

impl Prometheus {
    /// Starts it and waits until it is ready.
    async fn scraping(service: &Service) -> Self {
        let directory = tempfile::tempdir().expect("a directory for Prometheus");
        let configuration = directory.path().join("prometheus.yml");
        std::fs::write(
            &configuration,
            format!(
                "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
                 scrape_configs: [{{job_name: investigator, static_configs: [{{targets: ['{}']}}]}}]\n",
                service.address
            ),
        )
        .expect("prometheus.yml written");
        let address = investigator_tests::free_address();
        let child = std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", configuration.display()))
            .arg(format!("--storage.tsdb.path={}", directory.path().join("data").display()))
            .arg(format!("--web.listen-address={address}"))
            .arg("--log.level=warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("prometheus starts (scripts/install-system.sh installs Debian's prometheus package)");
        let prometheus = Prometheus { address, child, _directory: directory };
        let ready = format!("http://{address}/-/ready");
        eventually("Prometheus is ready", Duration::from_secs(30), || {
            let ready = ready.clone();
            async move { reqwest::get(&ready).await.is_ok_and(|answer| answer.status().is_success()) }
        })
        .await;
        prometheus
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
