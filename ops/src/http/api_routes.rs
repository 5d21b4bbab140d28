//! The one table of the API's routes under `/api/v1`: the server registers its routes from it,
//! and `GET /api/v1/openapi.json` and `GET /api/v1` describe it, so the description cannot
//! drift from what is served.

use actix_web::Scope;
use actix_web::web;
use serde_json::{Map, Value, json};

use super::{graph, operations, writes};

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    /// The query string.
    Query,
    Path,
}

/// A parameter of a route, with the bounds its handler enforces (so the description says
/// what a request must be, and a request the description allows is not refused).
#[derive(Debug, Clone, Copy)]
pub struct Param {
    name: &'static str,
    location: In,
    required: bool,
    kind: &'static str,
    description: &'static str,
    /// For integers: the smallest and largest value accepted.
    range: Option<(i64, i64)>,
    /// For strings with a fixed set of values: every one; anything else is 400.
    choices: &'static [&'static str],
}

const fn query(name: &'static str, required: bool, kind: &'static str, description: &'static str) -> Param {
    Param { name, location: In::Query, required, kind, description, range: None, choices: &[] }
}

/// An optional whole number from `minimum` to `maximum`.
const fn whole(name: &'static str, description: &'static str, minimum: i64, maximum: i64) -> Param {
    Param {
        name,
        location: In::Query,
        required: false,
        kind: "integer",
        description,
        range: Some((minimum, maximum)),
        choices: &[],
    }
}

/// An optional filter taking one of `choices`.
const fn choice(name: &'static str, description: &'static str, choices: &'static [&'static str]) -> Param {
    Param { name, location: In::Query, required: false, kind: "string", description, range: None, choices }
}

const fn path(name: &'static str, kind: &'static str, description: &'static str) -> Param {
    let range = if matches!(kind.as_bytes(), b"integer") { Some((0, i64::MAX)) } else { None };
    Param { name, location: In::Path, required: true, kind, description, range, choices: &[] }
}

impl Param {
    /// Its OpenAPI schema.
    fn schema(&self) -> Value {
        let mut schema = json!({"type": self.kind});
        if let Some((minimum, maximum)) = self.range {
            schema["minimum"] = json!(minimum);
            schema["maximum"] = json!(maximum);
        }
        if !self.choices.is_empty() {
            schema["enum"] = json!(self.choices);
        }
        if self.kind == "string" && self.choices.is_empty() {
            // An empty required value is refused like a missing one; PostgreSQL takes no NUL.
            schema["minLength"] = json!(u8::from(self.required));
            schema["maxLength"] = json!(super::parameters::MAX_VALUE_LENGTH);
            schema["pattern"] = json!("^[^\\u0000]*$");
        }
        schema
    }
}

/// `status` of `/workflows`: the life of a workflow run.
pub const WORKFLOW_STATUSES: &[&str] = &["requested", "submitted", "running", "succeeded", "failed"];
/// `kind` of `/workflows`.
pub const WORKFLOW_KINDS: &[&str] = &investigator_events::domain::WorkflowKind::NAMES;
/// `status` of `/dead-letters`.
pub const DEAD_LETTER_STATUSES: &[&str] = &["parked", "redriven", "discarded"];

/// One route.
pub struct ApiRoute {
    /// `get` or `post`.
    pub method: &'static str,
    /// Below `/api/v1`.
    pub path: &'static str,
    summary: &'static str,
    parameters: &'static [Param],
    /// Whether it needs the write token.
    writes: bool,
    /// The statuses of its successful answers (and of a lost race, 409).
    answers: &'static [&'static str],
    /// The JSON schema of its body, for routes that take one.
    body: Option<fn() -> Value>,
    /// Registers the handler on `path`.
    register: fn(Scope, &'static str) -> Scope,
}

const ENVIRONMENT: [Param; 3] = [
    query("os_name", false, "string", "rhel, fedora... (ubi counts as rhel)"),
    query("os_version", false, "string", "8, 35..."),
    query("python_version", false, "string", "3.8..."),
];
const PAGE: [Param; 2] = [
    whole("page", "0 first; negative counts from the end", -super::parameters::MAX_PAGE, super::parameters::MAX_PAGE),
    whole("per_page", "25 by default", 1, super::parameters::MAX_PER_PAGE),
];
const PACKAGE: [Param; 3] = [
    query("name", true, "string", "package name"),
    query("version", true, "string", "package version"),
    query("index", true, "string", "index URL"),
];
const DEAD_LETTER: [Param; 3] = [
    path("topic", "string", "full topic name"),
    Param { range: Some((0, i32::MAX as i64)), ..path("partition", "integer", "partition") },
    path("offset", "integer", "offset"),
];

/// The document upload's path, the one route that may answer 429.
const DOCUMENTS: &str = "/documents";
/// Setting a dead letter aside, whose body is optional.
const DISCARD: &str = "/dead-letters/{topic}/{partition}/{offset}/discard";

/// A Thoth message of the path's type, as its producer sends it (checked against the type).
fn message_body() -> Value {
    json!({"type": "object"})
}

/// An index to register.
fn index_body() -> Value {
    json!({"type": "object", "required": ["url"], "properties": {
        "url": {"type": "string", "description": "http(s) URL of a PEP 503 simple index, at most 2,048 characters"},
        "warehouse_api_url": {"type": "string", "nullable": true},
        "verify_ssl": {"type": "boolean"},
        "only_if_package_seen": {"type": "boolean"},
        "enabled": {"type": "boolean"}
    }})
}

/// A registered index to enable or disable.
fn index_state_body() -> Value {
    json!({"type": "object", "required": ["url", "enabled"], "properties": {
        "url": {"type": "string"}, "enabled": {"type": "boolean"}
    }})
}

/// A Thoth solver or adviser document, up to 32 MiB.
fn document_body() -> Value {
    json!({"type": "object"})
}

/// Why a dead letter is set aside.
fn discard_body() -> Value {
    json!({"type": "object", "properties": {"reason": {"type": "string"}}})
}

/// Every route under `/api/v1`, in the order they are listed.
pub const API: &[ApiRoute] = &[
    ApiRoute {
        method: "get",
        path: "/python-package-index",
        summary: "Package indexes",
        parameters: &[],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(graph::indexes)),
    },
    ApiRoute {
        method: "get",
        path: "/python/environment",
        summary: "Environments of the configured solvers",
        parameters: &[],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(graph::environments)),
    },
    ApiRoute {
        method: "get",
        path: "/python/platform",
        summary: "Platforms",
        parameters: &[],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(graph::platform)),
    },
    ApiRoute {
        method: "get",
        path: "/python/package",
        summary: "Names of solved packages, a page at a time",
        parameters: &[
            ENVIRONMENT[0],
            ENVIRONMENT[1],
            ENVIRONMENT[2],
            PAGE[0],
            PAGE[1],
            query("like", false, "string", "SQL LIKE pattern"),
        ],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(graph::packages)),
    },
    ApiRoute {
        method: "get",
        path: "/python/package/versions",
        summary: "Versions of a package",
        parameters: &[
            query("name", true, "string", "package name"),
            choice("order_by", "PEP 440 order (either case)", &["ASC", "DESC"]),
            ENVIRONMENT[0],
            ENVIRONMENT[1],
            ENVIRONMENT[2],
        ],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(graph::versions)),
    },
    ApiRoute {
        method: "get",
        path: "/python/package/version/environments",
        summary: "Environments a version was solved in",
        parameters: &[
            query("name", true, "string", "package name"),
            query("version", true, "string", "package version"),
            query("index", false, "string", "index URL (PyPI by default)"),
        ],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(graph::version_environments)),
    },
    ApiRoute {
        method: "get",
        path: "/python/package/dependencies",
        summary: "Direct dependencies of a version",
        parameters: &[
            PACKAGE[0],
            PACKAGE[1],
            PACKAGE[2],
            ENVIRONMENT[0],
            ENVIRONMENT[1],
            ENVIRONMENT[2],
            query("marker_evaluation_result", false, "boolean", "only with a whole environment"),
        ],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(graph::dependencies)),
    },
    ApiRoute {
        method: "get",
        path: "/python/package/version/metadata",
        summary: "The solver's entry for a version in one environment",
        parameters: &[
            PACKAGE[0],
            PACKAGE[1],
            PACKAGE[2],
            query("os_name", true, "string", "rhel, fedora... (ubi counts as rhel)"),
            query("os_version", true, "string", "8, 35..."),
            query("python_version", true, "string", "3.8..."),
        ],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(graph::version_metadata)),
    },
    ApiRoute {
        method: "get",
        path: "/solvers",
        summary: "The configured solvers",
        parameters: &[],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(graph::solvers)),
    },
    ApiRoute {
        method: "get",
        path: "/events",
        summary: "The event log from a position on",
        parameters: &[
            whole("after", "position to read after (0)", 0, i64::MAX),
            whole("limit", "events (100)", 1, super::operations::MAX_EVENTS),
            query("stream", false, "string", "one stream"),
            query("type", false, "string", "one event type"),
        ],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(operations::events)),
    },
    ApiRoute {
        method: "get",
        path: "/workflows",
        summary: "Workflow runs, newest first",
        parameters: &[
            choice("kind", "the kind of workflow", WORKFLOW_KINDS),
            choice("status", "where its life stands", WORKFLOW_STATUSES),
            query("package_name", false, "string", "package name"),
            PAGE[0],
            PAGE[1],
        ],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(operations::workflows)),
    },
    ApiRoute {
        method: "get",
        path: "/dead-letters",
        summary: "Dead letters, newest first",
        parameters: &[
            choice("status", "parked, re-driven or set aside", DEAD_LETTER_STATUSES),
            query("reason_code", false, "string", "malformed_json, unregistered_index..."),
            PAGE[0],
            PAGE[1],
        ],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(operations::dead_letters)),
    },
    ApiRoute {
        method: "get",
        path: "/status",
        summary: "Offsets, log and projection positions, workflows, dead letters, halted topics",
        parameters: &[],
        writes: false,
        answers: &["200"],
        body: None,
        register: |scope, path| scope.route(path, web::get().to(operations::status)),
    },
    ApiRoute {
        method: "post",
        path: "/messages/{base_name}",
        summary: "Validate a Thoth message (JSON body) and publish it",
        parameters: &[path("base_name", "string", "the message type's base name")],
        writes: true,
        answers: &["202"],
        body: Some(message_body),
        register: |scope, path| scope.route(path, web::post().to(writes::publish)),
    },
    ApiRoute {
        method: "post",
        path: "/python/package-index",
        summary: "Register an index (JSON body: url, warehouse_api_url, verify_ssl, only_if_package_seen, enabled)",
        parameters: &[],
        writes: true,
        answers: &["201"],
        body: Some(index_body),
        register: |scope, path| scope.route(path, web::post().to(writes::register_index)),
    },
    ApiRoute {
        method: "post",
        path: "/python/package-index/state",
        summary: "Enable or disable an index (JSON body: url, enabled)",
        parameters: &[],
        writes: true,
        answers: &["201"],
        body: Some(index_state_body),
        register: |scope, path| scope.route(path, web::post().to(writes::index_state)),
    },
    ApiRoute {
        method: "post",
        path: DOCUMENTS,
        summary: "Sync a Thoth solver or adviser document (the JSON document as the body, up to 32 MiB)",
        parameters: &[],
        writes: true,
        answers: &["200", "201"],
        body: Some(document_body),
        register: |scope, path| scope.route(path, web::post().to(writes::upload_document)),
    },
    ApiRoute {
        method: "post",
        path: "/dead-letters/{topic}/{partition}/{offset}/redrive",
        summary: "Publish a parked dead letter again",
        parameters: &DEAD_LETTER,
        writes: true,
        answers: &["202", "409"],
        body: None,
        register: |scope, path| scope.route(path, web::post().to(writes::redrive)),
    },
    ApiRoute {
        method: "post",
        path: DISCARD,
        summary: "Set a parked dead letter aside (JSON body: reason, optional)",
        parameters: &DEAD_LETTER,
        writes: true,
        answers: &["200", "409"],
        body: Some(discard_body),
        register: |scope, path| scope.route(path, web::post().to(writes::discard)),
    },
];

/// The graph reads answered from the cache (`cache`): Thoth's user-api endpoints, whose
/// answers change only when the knowledge does.
const CACHED: [&str; 6] = [
    "/python-package-index",
    "/python/package",
    "/python/package/versions",
    "/python/package/version/environments",
    "/python/package/dependencies",
    "/python/package/version/metadata",
];

/// Whether the answers of this path (below `/api/v1`) are cached.
pub fn is_cached(path: &str) -> bool {
    CACHED.contains(&path)
}

/// The methods (upper case) of the routes whose path pattern `path` (below `/api/v1`)
/// matches; empty when none does.
pub fn methods_of(path: &str) -> Vec<&'static str> {
    if path.is_empty() || path == "/" || path == "/openapi.json" {
        return vec!["GET"];
    }
    let mut methods: Vec<&'static str> = API
        .iter()
        .filter(|route| pattern_matches(route.path, path))
        .map(|route| if route.method == "get" { "GET" } else { "POST" })
        .collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

/// Whether `path` fits `pattern`, a `{name}` segment standing for any one non-empty segment.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (mut expected, mut given) = (pattern.split('/'), path.split('/'));
    loop {
        match (expected.next(), given.next()) {
            (None, None) => return true,
            (Some(part), Some(segment)) if part.starts_with('{') => {
                if segment.is_empty() {
                    return false;
                }
            }
            (Some(part), Some(segment)) if part == segment => {}
            _ => return false,
        }
    }
}

/// Registers every route of [`API`], plus the discovery and OpenAPI documents.
pub fn register(mut scope: Scope) -> Scope {
    scope = scope.route("", web::get().to(discovery)).route("/openapi.json", web::get().to(openapi));
    for route in API {
        scope = (route.register)(scope, route.path);
    }
    scope
}

/// `GET /api/v1`: the paths, as thamos' discovery reads them.
async fn discovery() -> actix_web::HttpResponse {
    let mut paths: Vec<String> = API.iter().map(|route| format!("/api/v1{}", route.path)).collect();
    paths.dedup();
    actix_web::HttpResponse::Ok().json(json!({"paths": paths}))
}

/// `GET /api/v1/openapi.json`.
async fn openapi() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(document())
}

/// The OpenAPI 3 description of [`API`].
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in API {
        let parameters: Vec<Value> = route
            .parameters
            .iter()
            .map(|param| {
                json!({"name": param.name, "in": if param.location == In::Path { "path" } else { "query" },
                       "required": param.required, "description": param.description, "schema": param.schema()})
            })
            .collect();
        let mut responses = json!({
            "400": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
            "503": {"$ref": "#/components/responses/Error"}
        });
        for status in route.answers {
            responses[*status] = if *status == "409" {
                json!({"$ref": "#/components/responses/Error"})
            } else {
                json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}})
            };
        }
        if route.method == "get" {
            // x-investigator-min-position not reached in time: `position_not_reached`.
            responses["412"] = json!({"$ref": "#/components/responses/Error"});
        }
        if route.writes {
            for status in ["401", "413", "422"] {
                responses[status] = json!({"$ref": "#/components/responses/Error"});
            }
        }
        if route.path == DOCUMENTS {
            // Two uploads at once at most: `too_many_uploads`.
            responses["429"] = json!({"$ref": "#/components/responses/Error"});
        }
        let mut operation = json!({"summary": route.summary, "parameters": parameters, "responses": responses});
        if is_cached(route.path) {
            operation["description"] = json!(
                "Answered from a cache for up to INVESTIGATOR_API_CACHE_TTL_MS. The answer's x-investigator-position \
                 header is the log position it reflects; send x-investigator-min-position to read at least that \
                 position (your own write)."
            );
        }
        if route.method == "get"
            && let Some(parameters) = operation["parameters"].as_array_mut()
        {
            parameters.push(json!({"name": "x-investigator-min-position", "in": "header", "required": false,
                "description": "the log position the answer must reflect at least (a write's position): waited \
                                for up to INVESTIGATOR_MIN_POSITION_WAIT_MS, then 412 position_not_reached",
                "schema": {"type": "integer", "minimum": 0, "maximum": i64::MAX}}));
        }
        if route.writes {
            operation["security"] = json!([{"bearer": []}]);
        }
        if let Some(body) = route.body {
            operation["requestBody"] =
                json!({"required": route.path != DISCARD, "content": {"application/json": {"schema": body()}}});
        }
        let entry = paths.entry(format!("/api/v1{}", route.path)).or_insert_with(|| json!({}));
        entry[route.method] = operation;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "investigator", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Thoth's user-api graph endpoints and the investigator's own, over the projections"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {"description": "An error", "content": {"application/json": {"schema": {
                "type": "object", "required": ["error", "code"],
                "properties": {"error": {"type": "string"}, "code": {"type": "string"}, "parameters": {"type": "object"}}
            }}}}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_parameter_is_described_and_every_description_is_a_path_parameter() {
        for route in API {
            let in_path: Vec<&str> = route
                .path
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')))
                .collect();
            let described: Vec<&str> =
                route.parameters.iter().filter(|param| param.location == In::Path).map(|param| param.name).collect();
            assert_eq!(in_path, described, "{}", route.path);
        }
    }

    #[test]
    fn every_cached_path_is_a_read_of_the_table() {
        for path in CACHED {
            assert!(API.iter().any(|route| route.path == path && route.method == "get"), "{path}");
        }
    }

    #[test]
    fn the_document_lists_every_route_once() {
        let document = document();
        let paths = document["paths"].as_object().expect("paths");
        let operations: usize = paths.values().map(|item| item.as_object().map_or(0, |item| item.len())).sum();
        assert_eq!(operations, API.len());
        assert_eq!(document["openapi"], "3.0.3");
    }
}
