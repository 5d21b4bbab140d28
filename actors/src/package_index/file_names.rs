//! Which project and version a distribution file belongs to, from its name alone.

use investigator_core::normalize_package_name;

/// The version in a distribution file name: `name-version-….whl`, or `name-version.tar.gz`
/// (and the other sdist extensions), when the file's project is `name`. Both names are
/// compared PEP 503 normalised: files use `_`, `.` or `-` and any case.
pub(super) fn version_of_file<'a>(name: &str, filename: &'a str) -> Option<&'a str> {
    let (file_project, version) = split_file_name(filename)?;
    (normalize_package_name(file_project) == normalize_package_name(name)).then_some(version)
}

/// The project and version parts of a wheel or sdist file name.
fn split_file_name(filename: &str) -> Option<(&str, &str)> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.splitn(3, '-');
        let (file_project, version, _tags) = (parts.next()?, parts.next()?, parts.next()?);
        return Some((file_project, version));
    }
    let stem = SDIST_EXTENSIONS.iter().find_map(|extension| filename.strip_suffix(extension))?;
    stem.rsplit_once('-')
}

/// The file name endings of source distributions.
const SDIST_EXTENSIONS: [&str; 5] = [".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".tgz"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_match_their_project_pep_503_normalised() {
        assert_eq!(version_of_file("zope-interface", "Zope__Interface-5.4.0-cp39-none-any.whl"), Some("5.4.0"));
        assert_eq!(version_of_file("zope_interface", "zope.interface-5.3.0.tar.gz"), Some("5.3.0"));
        assert_eq!(version_of_file("flask", "flask-sqlalchemy-2.0.tar.gz"), None);
        assert_eq!(version_of_file("flask", "flask-2.0.exe"), None);
    }
}
