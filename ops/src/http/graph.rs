//! Thoth's user-api graph endpoints under `/api/v1` (and management-api's `/solvers`): the
//! same paths, parameters, pagination headers and JSON shapes, read from the projections.

use actix_web::{HttpRequest, HttpResponse, web};
use investigator_core::{PackageVersion, normalize_package_name};
use investigator_projections::queries;
use serde_json::{Value, json};

use super::AppState;
use super::api_error::ApiError;
use super::parameters::Parameters;

const DEFAULT_INDEX: &str = "https://pypi.org/simple";

/// The paths this API serves, as `GET /api/v1` lists them for thamos' discovery.
pub const PATHS: &[&str] = &[
    "/python-package-index",
    "/python/environment",
    "/python/platform",
    "/python/package",
    "/python/package/versions",
    "/python/package/version/environments",
    "/python/package/dependencies",
    "/solvers",
];

pub async fn discovery() -> HttpResponse {
    let paths: Vec<String> = PATHS.iter().map(|path| format!("/api/v1{path}")).collect();
    HttpResponse::Ok().json(json!({"paths": paths}))
}

pub async fn indexes(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let client = state.graph.client().await?;
    let indexes: Vec<Value> = queries::indexes(&client)
        .await?
        .into_iter()
        .map(|index| {
            json!({"url": index.url, "warehouse_api_url": index.warehouse_api_url, "verify_ssl": index.verify_ssl,
                   "only_if_package_seen": index.only_if_package_seen})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"indexes": indexes})))
}

pub async fn platform() -> HttpResponse {
    HttpResponse::Ok().json(json!({"platform": ["linux-x86_64"]}))
}

/// The configured solvers' environments, sorted; each RHEL one also as UBI (Thoth's rule).
pub async fn environments(state: web::Data<AppState>) -> HttpResponse {
    let mut environments: Vec<(String, String, String)> = Vec::new();
    for solver in &state.solvers {
        let (os_name, os_version, python) =
            (solver.os_name().to_owned(), solver.os_version().to_owned(), solver.python_version());
        if os_name == "rhel" {
            environments.push(("ubi".to_owned(), os_version.clone(), python.clone()));
        }
        environments.push((os_name, os_version, python));
    }
    environments.sort();
    environments.dedup();
    let environments: Vec<Value> = environments
        .into_iter()
        .map(|(os_name, os_version, python_version)| json!({"os_name": os_name, "os_version": os_version, "python_version": python_version}))
        .collect();
    HttpResponse::Ok().json(json!({"environment": environments}))
}

pub async fn solvers(state: web::Data<AppState>) -> HttpResponse {
    let solvers: Vec<Value> = state
        .solvers
        .iter()
        .map(|solver| {
            json!({"os_name": solver.os_name(), "os_version": solver.os_version(),
                   "python_version": solver.python_version(), "solver_name": solver.to_string()})
        })
        .collect();
    HttpResponse::Ok().json(json!({"solvers": {"python": solvers}, "parameters": {}}))
}

pub async fn packages(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let parameters = Parameters::parse(request.query_string())?;
    let (page, per_page) = parameters.page()?;
    let filter = parameters.environment();
    let like = parameters.optional("like");
    let client = state.graph.client().await?;
    // A negative page counts from the end: the total is needed first.
    let (_, total) = queries::package_names(&client, &filter, like, 0, 1).await?;
    let page_count = (total + per_page - 1) / per_page;
    let page = if page < 0 { page_count + page } else { page };
    let (names, _) = if page < 0 {
        (Vec::new(), total)
    } else {
        queries::package_names(&client, &filter, like, page * per_page, per_page).await?
    };
    let packages: Vec<Value> = names.into_iter().map(|name| json!({"package_name": name})).collect();
    let mut response = HttpResponse::Ok();
    pagination_headers(&mut response, &request, &parameters, page, per_page, page_count, total);
    Ok(response.json(json!({"packages": packages, "parameters": parameters.echo()})))
}

pub async fn versions(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let parameters = Parameters::parse(request.query_string())?;
    let name = normalize_package_name(parameters.required("name")?);
    let order = match parameters.optional("order_by") {
        None => None,
        Some(order) if order.eq_ignore_ascii_case("ASC") => Some(false),
        Some(order) if order.eq_ignore_ascii_case("DESC") => Some(true),
        Some(_) => return Err(parameters.invalid("order_by", "must be ASC or DESC")),
    };
    let client = state.graph.client().await?;
    let mut rows = queries::package_versions(&client, &name, &parameters.environment()).await?;
    if rows.is_empty() {
        return Err(ApiError::NotFound {
            message: format!("Package '{name}' not found"),
            parameters: parameters.echo(),
        });
    }
    if let Some(descending) = order {
        rows.sort_by(|left, right| {
            let ordering =
                match (PackageVersion::parse(&left.package_version), PackageVersion::parse(&right.package_version)) {
                    (Ok(left), Ok(right)) => left.cmp(&right),
                    _ => left.package_version.cmp(&right.package_version),
                };
            if descending { ordering.reverse() } else { ordering }
        });
    }
    let versions: Vec<Value> = rows
        .into_iter()
        .map(|row| json!({"package_name": row.package_name, "package_version": row.package_version, "index_url": row.index_url}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"versions": versions, "parameters": parameters.echo()})))
}

pub async fn version_environments(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let parameters = Parameters::parse(request.query_string())?;
    let name = normalize_package_name(parameters.required("name")?);
    let version = parameters.required("version")?.to_owned();
    let index = parameters.optional("index").unwrap_or(DEFAULT_INDEX).to_owned();
    let client = state.graph.client().await?;
    let environments = queries::version_environments(&client, &name, &version, &index).await?;
    if environments.is_empty() {
        return Err(ApiError::NotFound {
            message: format!("No environment found for package '{name}' in version '{version}' from index '{index}'"),
            parameters: parameters.echo(),
        });
    }
    let environments: Vec<Value> = environments
        .into_iter()
        .map(|row| json!({"os_name": row.os_name, "os_version": row.os_version, "python_version": row.python_version}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"environments": environments, "parameters": parameters.echo()})))
}

pub async fn dependencies(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let parameters = Parameters::parse(request.query_string())?;
    let name = normalize_package_name(parameters.required("name")?);
    let version = parameters.required("version")?.to_owned();
    let index = parameters.required("index")?.to_owned();
    let filter = parameters.environment();
    if filter.os_name.is_some() != filter.os_version.is_some() {
        return Err(parameters.invalid("os_name", "os_name and os_version go together"));
    }
    let whole_environment = filter.os_name.is_some() && filter.python_version.is_some();
    let marker = match parameters.optional("marker_evaluation_result") {
        None => None,
        Some(_) if !whole_environment => {
            return Err(parameters.invalid(
                "marker_evaluation_result",
                "needs the whole environment (os_name, os_version and python_version)",
            ));
        }
        Some(text) => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => return Err(parameters.invalid("marker_evaluation_result", "must be true or false")),
        },
    };
    let client = state.graph.client().await?;
    let Some(rows) = queries::dependencies(&client, &name, &version, &index, &filter, marker).await? else {
        return Err(ApiError::NotFound {
            message: format!("No record found for package '{name}' in version '{version}' from index '{index}'"),
            parameters: parameters.echo(),
        });
    };
    let dependencies: Vec<Value> = rows
        .into_iter()
        .map(|row| json!({"name": row.name, "version": row.version, "extra": row.extra, "environment_marker": row.environment_marker}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"dependencies": dependencies, "parameters": parameters.echo()})))
}

/// Thoth's page headers: `page`, `per_page`, `page_count`, `entries_count`, and `next` / `prev`
/// (relative URLs with the same query, or `null`).
fn pagination_headers(
    response: &mut actix_web::HttpResponseBuilder,
    request: &HttpRequest,
    parameters: &Parameters,
    page: i64,
    per_page: i64,
    page_count: i64,
    total: i64,
) {
    let link = |target: i64| {
        if target < 0 || target >= page_count {
            return "null".to_owned();
        }
        let mut query: Vec<String> = parameters
            .echo()
            .as_object()
            .map(|object| {
                object
                    .iter()
                    .filter(|(key, _)| key.as_str() != "page")
                    .map(|(key, value)| format!("{key}={}", encode(value.as_str().unwrap_or_default())))
                    .collect()
            })
            .unwrap_or_default();
        query.push(format!("page={target}"));
        format!("{}?{}", request.path(), query.join("&"))
    };
    response
        .insert_header(("page", page.to_string()))
        .insert_header(("per_page", per_page.to_string()))
        .insert_header(("page_count", page_count.to_string()))
        .insert_header(("entries_count", total.to_string()))
        .insert_header(("next", link(page + 1)))
        .insert_header(("prev", link(page - 1)));
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
