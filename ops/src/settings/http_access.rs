//! Who may do what over HTTP beyond the API tokens themselves: Thoth's unauthenticated
//! `GET /halt` and `GET /resume`, and whether `/metrics` needs the read token.

use super::Reader;

/// The HTTP server's exposure settings (the tokens are `INVESTIGATOR_API_TOKEN` and
/// `INVESTIGATOR_API_READ_TOKEN`, in `ServiceSettings`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpAccess {
    /// `INVESTIGATOR_THOTH_COMPATIBLE_CONTROL` (off): `GET /halt/{base}` and
    /// `GET /resume/{base}` answered without a token, as Thoth's investigator answers them.
    /// Off, control is `POST` with the write token only: a GET can be triggered from any web
    /// page a person with network access opens.
    pub thoth_compatible_control: bool,
    /// `INVESTIGATOR_METRICS_NEED_READ_TOKEN` (off): `/metrics` needs the read token
    /// (`INVESTIGATOR_API_READ_TOKEN`, which must then be set). Off, Prometheus scrapes
    /// without one, as it scrapes Thoth.
    pub metrics_need_read_token: bool,
}

impl Reader<'_> {
    pub(super) fn http_access(&mut self, read_token_set: bool) -> HttpAccess {
        let access = HttpAccess {
            thoth_compatible_control: self.switch("INVESTIGATOR_THOTH_COMPATIBLE_CONTROL"),
            metrics_need_read_token: self.switch("INVESTIGATOR_METRICS_NEED_READ_TOKEN"),
        };
        if access.metrics_need_read_token && !read_token_set {
            self.problem(
                "INVESTIGATOR_METRICS_NEED_READ_TOKEN",
                "/metrics cannot need the read token when INVESTIGATOR_API_READ_TOKEN is not set",
            );
        }
        access
    }

    /// `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`, in any case; off when unset.
    fn switch(&mut self, variable: &'static str) -> bool {
        let Some(value) = self.text(variable) else {
            return false;
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => {
                self.problem(variable, format!("'{value}' is neither 1 nor 0 (true, false, yes, no, on, off)"));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, crate::settings::SettingsError> {
        Settings::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn control_over_get_and_open_metrics_are_off_or_on_by_setting() {
        let defaults = settings(&[]).expect("valid").service.http_access;
        assert!(!defaults.thoth_compatible_control && !defaults.metrics_need_read_token);
        let on = settings(&[
            ("INVESTIGATOR_THOTH_COMPATIBLE_CONTROL", "1"),
            ("INVESTIGATOR_METRICS_NEED_READ_TOKEN", "true"),
            ("INVESTIGATOR_API_READ_TOKEN", "r"),
        ])
        .expect("valid")
        .service
        .http_access;
        assert!(on.thoth_compatible_control && on.metrics_need_read_token);
    }

    #[test]
    fn a_protected_metrics_without_a_read_token_or_an_unknown_switch_is_refused_by_variable() {
        let error = settings(&[
            ("INVESTIGATOR_METRICS_NEED_READ_TOKEN", "1"),
            ("INVESTIGATOR_THOTH_COMPATIBLE_CONTROL", "maybe"),
        ])
        .expect_err("invalid");
        let variables: Vec<&str> = error.0.iter().map(|problem| problem.variable).collect();
        assert_eq!(variables, ["INVESTIGATOR_THOTH_COMPATIBLE_CONTROL", "INVESTIGATOR_METRICS_NEED_READ_TOKEN"]);
    }
}
