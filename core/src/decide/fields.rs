//! A message's identities made into knowledge keys: names, versions, index URLs, solvers and
//! job ids checked and normalised, or a [`Rejection`] that names the field.

use investigator_events::excerpt::excerpt;

use crate::decide::{Knowledge, Rejection};
use crate::{IndexUrl, PackageName, PackageVersion, SolverName};

/// Kubernetes' limit for a DNS-1123 label, which a workflow name must be.
pub(super) const MAX_LABEL_LEN: usize = 63;

/// A PEP 503 name.
pub(super) fn package_name(raw: &str) -> Result<String, Rejection> {
    PackageName::parse(raw.trim())
        .map(|name| name.as_str().to_owned())
        .map_err(|error| invalid("package_name", error.to_string()))
}

/// A PEP 440 normalised version. Legacy versions (`2004d`) are refused too: a solver could
/// not be asked for them by `===` reliably, and refusing says so in a dead letter.
pub(super) fn package_version(raw: &str) -> Result<String, Rejection> {
    PackageVersion::parse(raw)
        .map(|version| version.normalized())
        .map_err(|error| invalid("package_version", error.to_string()))
}

/// A normalised index URL. Text that is not an index URL cannot be a registered index, so it
/// is refused as unregistered, with the text as sent.
pub(super) fn index_url(raw: &str) -> Result<String, Rejection> {
    IndexUrl::parse(raw).map(|url| url.as_str().to_owned()).map_err(|_| unregistered(raw))
}

/// An `UnregisteredIndex` rejection, quoting an excerpt of the URL as sent.
fn unregistered(raw: &str) -> Rejection {
    Rejection::UnregisteredIndex { index_url: excerpt(raw).to_string() }
}

/// A normalised index URL that is registered (enabled or not, as Thoth checks it).
/// A (name, version, index URL) triple from a message, each normalised.
pub(super) fn version_on_index(name: &str, version: &str, index: &str) -> Result<(String, String, String), Rejection> {
    Ok((package_name(name)?, package_version(version)?, index_url(index)?))
}

pub(super) fn registered_index(raw: &str, knowledge: &Knowledge) -> Result<String, Rejection> {
    let url = index_url(raw)?;
    match knowledge.index_enabled(&url) {
        Some(_) => Ok(url),
        None => Err(unregistered(raw)),
    }
}

/// A solver name.
pub(super) fn solver(raw: &str) -> Result<SolverName, Rejection> {
    SolverName::parse(raw.trim()).map_err(|error| invalid("solver", error.to_string()))
}

/// A job id given by the sender: it becomes the workflow's name, so it must be a DNS-1123
/// label (Thoth let the cluster refuse it, and then retried and halted the topic).
pub(super) fn job_id(raw: Option<&str>) -> Result<Option<String>, Rejection> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if is_dns_label(raw) {
        Ok(Some(raw.to_owned()))
    } else {
        Err(invalid(
            "job_id",
            format!(
                "'{}' is not a workflow name: lower-case letters, digits and '-', starting and ending with a \
                 letter or digit, at most {MAX_LABEL_LEN} characters",
                excerpt(raw)
            ),
        ))
    }
}

/// A required text field that must not be blank.
pub(super) fn non_blank(field: &'static str, raw: Option<&str>) -> Result<String, Rejection> {
    match raw.map(str::trim) {
        Some(text) if !text.is_empty() => Ok(text.to_owned()),
        _ => Err(invalid(field, "must be given and not blank".to_owned())),
    }
}

/// Whether `name` is a DNS-1123 label: `[a-z0-9-]`, alphanumeric at both ends, 1 to 63 bytes.
pub(super) fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    bytes.len() <= MAX_LABEL_LEN
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes.iter().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'-')
}

/// An `InvalidField` rejection. The reason may quote the value (a parser's message), which can
/// be megabytes long: it is kept to an excerpt.
pub(super) fn invalid(field: &'static str, reason: String) -> Rejection {
    Rejection::InvalidField { field, reason: excerpt(&reason).to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_versions_and_indexes_are_normalised() {
        assert_eq!(package_name(" Flask_SQLAlchemy "), Ok("flask-sqlalchemy".to_owned()));
        assert_eq!(package_version("1.0-alpha1"), Ok("1.0a1".to_owned()));
        assert_eq!(index_url("https://PyPI.python.org/simple/"), Ok("https://pypi.org/simple".to_owned()));
    }

    #[test]
    fn invalid_identities_name_their_field() {
        assert!(matches!(package_name("numpy==1.0"), Err(Rejection::InvalidField { field: "package_name", .. })));
        assert!(matches!(package_version("2004d"), Err(Rejection::InvalidField { field: "package_version", .. })));
        assert!(matches!(solver("rhel-8-py38"), Err(Rejection::InvalidField { field: "solver", .. })));
        assert_eq!(
            index_url("pypi.org/simple"),
            Err(Rejection::UnregisteredIndex { index_url: "pypi.org/simple".to_owned() })
        );
    }

    #[test]
    fn a_disabled_index_is_registered_and_an_unknown_one_is_not() {
        let mut knowledge = Knowledge::default();
        knowledge.insert_index("https://pypi.org/simple", false);
        assert_eq!(registered_index("https://pypi.org/simple/", &knowledge), Ok("https://pypi.org/simple".to_owned()));
        assert_eq!(
            registered_index("https://example.org/simple", &knowledge),
            Err(Rejection::UnregisteredIndex { index_url: "https://example.org/simple".to_owned() })
        );
    }

    #[test]
    fn dns_labels_are_what_kubernetes_accepts_as_names() {
        for good in ["adviser-1", "a", "0abc", &"a".repeat(63)] {
            assert!(is_dns_label(good), "{good}");
        }
        for bad in ["", "-a", "a-", "Adviser", "a_b", "a.b", "a b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
        assert_eq!(job_id(None), Ok(None));
        assert_eq!(job_id(Some("adviser-1")), Ok(Some("adviser-1".to_owned())));
        assert!(matches!(job_id(Some("Adviser_1")), Err(Rejection::InvalidField { field: "job_id", .. })));
    }
}
