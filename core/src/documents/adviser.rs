//! An adviser document as an `AdviserRunRecorded`, and an `AdviserParked` when it failed for
//! want of knowledge about some packages.

use investigator_events::documents::{AdviserDocument, DocumentError};
use investigator_events::domain::{AdviserParked, AdviserRunRecorded, UnresolvedPackage};
use investigator_events::thoth::JsonObject;
use serde_json::Value;

use super::{index_url, package_name, timestamp};
use crate::SolverName;

/// The run, and the parking of a failed run that has unresolved packages.
pub(super) fn adviser_run(
    document: &AdviserDocument,
) -> Result<(AdviserRunRecorded, Option<AdviserParked>), DocumentError> {
    let metadata = &document.metadata;
    let result = &document.result;
    let request = document.request_metadata();
    let text = |object: Option<&JsonObject>, key: &str| -> Option<String> {
        object.and_then(|object| object.get(key)).and_then(Value::as_str).map(str::to_owned)
    };
    let unresolved = document
        .unresolved()
        .iter()
        .enumerate()
        .map(|(i, name)| package_name(name, &format!("result.report._ERROR_DETAILS.unresolved[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut parameters = result.parameters.clone();
    let runtime_environment = match parameters.remove("runtime_environment") {
        Some(Value::Object(environment)) => environment,
        Some(Value::Null) | None => JsonObject::new(),
        Some(_) => {
            return Err(DocumentError::at("result.parameters.runtime_environment", "must be an object"));
        }
    };

    let run = AdviserRunRecorded {
        adviser_document_id: metadata.document_id.clone(),
        datetime: timestamp(&metadata.datetime, "metadata.datetime")?,
        adviser_version: metadata.analyzer_version.clone(),
        adviser_name: metadata.analyzer.clone().unwrap_or_else(|| "thoth-adviser".to_owned()),
        source_type: text(request, "source_type").or_else(|| text(Some(&parameters), "source_type")),
        origin: text(request, "origin"),
        recommendation_type: text(Some(&parameters), "recommendation_type"),
        re_run_adviser_id: text(request, "re_run_adviser_id"),
        error: result.error,
        error_msg: result.error_msg.clone(),
        parameters,
        runtime_environment,
        unresolved,
    };
    let parked = (run.error && !run.unresolved.is_empty()).then(|| park(&run, &result.parameters)).transpose()?;
    Ok((run, parked))
}

fn park(run: &AdviserRunRecorded, parameters: &JsonObject) -> Result<AdviserParked, DocumentError> {
    // The project's first package source is where the unresolved packages were looked for.
    let source = parameters
        .get("project")
        .and_then(|project| project.pointer("/requirements/source/0/url"))
        .and_then(Value::as_str);
    let index = source.map(|url| index_url(url, "result.parameters.project.requirements.source[0].url")).transpose()?;
    Ok(AdviserParked {
        adviser_document_id: run.adviser_document_id.clone(),
        unresolved: run
            .unresolved
            .iter()
            .map(|name| UnresolvedPackage { package_name: name.clone(), index_url: index.clone() })
            .collect(),
        solver_name: solver_for(&run.runtime_environment).map(|solver| solver.to_string()),
    })
}

/// Thoth's rule: the solver of a runtime environment is built from its OS and Python; none
/// when the OS is not given.
fn solver_for(environment: &JsonObject) -> Option<SolverName> {
    let os = environment.get("operating_system")?;
    let os_name = os.get("name")?.as_str()?;
    let os_version = os.get("version")?.as_str()?;
    let python_version = environment.get("python_version")?.as_str()?;
    SolverName::for_environment(os_name, os_version, python_version).ok()
}
