//! Thoth's user-api graph endpoints under `/api/v1` (and management-api's `/solvers`): the
//! same paths, parameters, pagination headers and JSON shapes, read from the projections.

use actix_web::{HttpRequest, HttpResponse, web};
use investigator_core::{PackageVersion, normalize_package_name};
use investigator_projections::queries;
use serde_json::{Value, json};

use super::AppState;
use super::api_error::ApiError;
use super::pagination::paginate;
use super::parameters::Parameters;

const DEFAULT_INDEX: &str = "https://pypi.org/simple";

pub async fn indexes(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
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
    let filter = parameters.environment();
    let like = parameters.optional("like");
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
    let page =
        paginate(&parameters, |offset, limit| queries::package_names(&client, &filter, like, offset, limit)).await?;
    let packages: Vec<Value> = page.rows.iter().map(|name| json!({"package_name": name})).collect();
    let mut response = HttpResponse::Ok();
    page.headers(&mut response, &request, &parameters);
    Ok(response.json(json!({"packages": packages, "parameters": parameters.echo()})))
}

/// `/python/package/version/metadata`: the solver's entry for a version in one environment.
pub async fn version_metadata(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let parameters = Parameters::parse(request.query_string())?;
    let name = normalize_package_name(parameters.required("name")?);
    let version = parameters.required("version")?;
    let index = parameters.required("index")?;
    let environment =
        (parameters.required("os_name")?, parameters.required("os_version")?, parameters.required("python_version")?);
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
    match queries::operations::version_metadata(&client, &name, version, index, environment).await? {
        Some(entry) => {
            let metadata = thoth_metadata(entry);
            Ok(HttpResponse::Ok().json(json!({"metadata": metadata, "parameters": parameters.echo()})))
        }
        None => Err(ApiError::NotFound {
            message: format!("No metadata found for package '{name}' in version '{version}' from index '{index}'"),
            parameters: parameters.echo(),
        }),
    }
}

/// A solver's tree entry as Thoth's user-api served it: `dependencies` keyed by name, each with
/// its specifier, extras, marker and marker evaluation, and the versions resolved for it,
/// sorted (a name listed twice, under two markers, keeps the last, as Thoth's dict did).
fn thoth_metadata(mut entry: Value) -> Value {
    let Some(listed) = entry.get("dependencies").and_then(Value::as_array) else {
        return entry;
    };
    let mut dependencies = serde_json::Map::new();
    for dependency in listed {
        let Some(name) = dependency.get("package_name").and_then(Value::as_str) else {
            continue;
        };
        let mut versions: Vec<&str> = dependency["resolved_versions"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|resolved| resolved["versions"].as_array().into_iter().flatten().filter_map(Value::as_str))
            .collect();
        versions.sort_by(|left, right| match (PackageVersion::parse(left), PackageVersion::parse(right)) {
            (Ok(left), Ok(right)) => left.cmp(&right),
            _ => left.cmp(right),
        });
        versions.dedup();
        let field = |name: &str| dependency.get(name).cloned().unwrap_or(Value::Null);
        dependencies.insert(
            normalize_package_name(name),
            json!({"specifier": field("specifier"), "extras": field("extras"), "extra": field("extra"),
                   "marker": field("marker"), "marker_evaluated": field("marker_evaluated"),
                   "marker_evaluation_result": field("marker_evaluation_result"),
                   "marker_evaluation_error": field("marker_evaluation_error"), "versions": versions}),
        );
    }
    entry["dependencies"] = Value::Object(dependencies);
    entry
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
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
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
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
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
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_dependencies_are_keyed_by_name_with_sorted_versions() {
        let entry = json!({"package_name": "requests", "dependencies": [
            {"package_name": "urllib3", "specifier": "<1.27", "extras": [], "extra": [], "marker_evaluation_result": true,
             "resolved_versions": [{"index": "https://pypi.org/simple", "versions": ["1.26.10", "1.26.2", "1.26.2"]}]},
            {"package_name": "PySocks", "specifier": "", "marker": "extra == \"socks\"", "resolved_versions": []}
        ]});
        let metadata = thoth_metadata(entry);
        assert_eq!(metadata["dependencies"]["urllib3"]["versions"], json!(["1.26.2", "1.26.10"]));
        assert_eq!(metadata["dependencies"]["urllib3"]["specifier"], "<1.27");
        assert_eq!(metadata["dependencies"]["urllib3"]["marker"], Value::Null);
        assert_eq!(metadata["dependencies"]["pysocks"]["marker"], "extra == \"socks\"");
        assert_eq!(metadata["package_name"], "requests");
    }
}
