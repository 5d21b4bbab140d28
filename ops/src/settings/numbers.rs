//! The numeric settings, each with the values it accepts and what `0` means.
//!
//! A number outside its range is refused at start rather than quietly replaced by a default:
//! an operator who writes `ARGO_PENDING_WORKFLOW_LIMIT=0` to stop launches must not get
//! unlimited ones. Every numeric variable is read through one of these entries, so
//! [`NUMERIC_SETTINGS`] is the whole list (a test reads every setting and checks that).

use super::Reader;

/// How a numeric setting is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberForm {
    /// A whole number: `42`.
    Whole,
    /// A whole number that Thoth's manifests may write as a float: `900000.0`.
    WholeOrFloat,
    /// A number with an optional fraction: `0.5`.
    Fraction,
}

/// One numeric setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericSetting {
    /// The environment variable.
    pub variable: &'static str,
    /// The smallest value accepted.
    pub min: i64,
    /// The largest value accepted.
    pub max: i64,
    /// How the value is written.
    pub form: NumberForm,
    /// What `0` means: a behaviour, or that it is refused.
    pub zero: &'static str,
}

impl NumericSetting {
    const fn whole(variable: &'static str, min: i64, max: i64, zero: &'static str) -> Self {
        NumericSetting { variable, min, max, form: NumberForm::Whole, zero }
    }

    /// The range as an error states it.
    fn range(&self) -> String {
        let what = match self.form {
            NumberForm::Whole | NumberForm::WholeOrFloat => "a whole number",
            NumberForm::Fraction => "a number",
        };
        format!("{what} from {} to {}", self.min, self.max)
    }
}

const REFUSED: &str = "refused";

macro_rules! settings {
    ($($name:ident = $setting:expr;)*) => {
        $(pub const $name: NumericSetting = $setting;)*
        /// Every numeric setting.
        pub const NUMERIC_SETTINGS: &[NumericSetting] = &[$($name),*];
    };
}

settings! {
    // librdkafka's own ranges, so a mistake stops the start rather than the first client.
    KAFKA_MESSAGE_MAX_BYTES = NumericSetting::whole("KAFKA_MESSAGE_MAX_BYTES", 1_000, 1_000_000_000, REFUSED);
    KAFKA_RECEIVE_MESSAGE_MAX_BYTES =
        NumericSetting::whole("KAFKA_RECEIVE_MESSAGE_MAX_BYTES", 1_000, 2_147_483_647, REFUSED);
    KAFKA_CONSUMER_MAX_POLL_INTERVAL_MS = NumericSetting {
        variable: "KAFKA_CONSUMER_MAX_POLL_INTERVAL_MS", min: 1, max: 86_400_000,
        form: NumberForm::WholeOrFloat, zero: REFUSED,
    };
    KAFKA_CONSUMER_SESSION_TIMEOUT_MS = NumericSetting {
        variable: "KAFKA_CONSUMER_SESSION_TIMEOUT_MS", min: 1, max: 3_600_000,
        form: NumberForm::WholeOrFloat, zero: REFUSED,
    };
    KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS = NumericSetting {
        variable: "KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS", min: 1, max: 3_600_000,
        form: NumberForm::WholeOrFloat, zero: REFUSED,
    };
    KAFKA_TOPIC_PRODUCER_COMPRESSION_LEVEL = NumericSetting::whole(
        "KAFKA_TOPIC_PRODUCER_COMPRESSION_LEVEL", -1, 22, "the codec's lowest level (-1: its default)");
    THOTH_INVESTIGATOR_MAX_RETRIES =
        NumericSetting::whole("THOTH_INVESTIGATOR_MAX_RETRIES", 0, 100, "one attempt, as 1");
    THOTH_INVESTIGATOR_BACKOFF = NumericSetting {
        variable: "THOTH_INVESTIGATOR_BACKOFF", min: 0, max: 3_600,
        form: NumberForm::Fraction, zero: "attempts follow each other at once",
    };
    THOTH_INVESTIGATOR_SCHEDULE_SOLVER = NumericSetting::whole("THOTH_INVESTIGATOR_SCHEDULE_SOLVER", 0, 1, "off");
    THOTH_INVESTIGATOR_SCHEDULE_REVSOLVER =
        NumericSetting::whole("THOTH_INVESTIGATOR_SCHEDULE_REVSOLVER", 0, 1, "off");
    THOTH_INVESTIGATOR_SCHEDULE_SECURITY = NumericSetting::whole("THOTH_INVESTIGATOR_SCHEDULE_SECURITY", 0, 1, "off");
    THOTH_INVESTIGATOR_KEBECHET_ADMINISTRATOR =
        NumericSetting::whole("THOTH_INVESTIGATOR_KEBECHET_ADMINISTRATOR", 0, 1, "off");
    INVESTIGATOR_BATCH_SIZE = NumericSetting::whole("INVESTIGATOR_BATCH_SIZE", 1, 100_000, REFUSED);
    INVESTIGATOR_BATCH_LINGER_MS =
        NumericSetting::whole("INVESTIGATOR_BATCH_LINGER_MS", 0, 60_000, "a partial batch goes at once");
    INVESTIGATOR_INDEX_TIMEOUT_MS =
        NumericSetting::whole("INVESTIGATOR_INDEX_TIMEOUT_MS", 0, 60_000, "indexes are never asked");
    INVESTIGATOR_KUBE_TIMEOUT_MS = NumericSetting::whole("INVESTIGATOR_KUBE_TIMEOUT_MS", 1, 300_000, REFUSED);
    INVESTIGATOR_WATCH_TIMEOUT_S = NumericSetting::whole("INVESTIGATOR_WATCH_TIMEOUT_S", 1, 3_600, REFUSED);
    INVESTIGATOR_API_CACHE_TTL_MS =
        NumericSetting::whole("INVESTIGATOR_API_CACHE_TTL_MS", 0, 3_600_000, "no cache");
    INVESTIGATOR_API_CACHE_MB = NumericSetting::whole("INVESTIGATOR_API_CACHE_MB", 1, 65_536, REFUSED);
    INVESTIGATOR_HTTP_WORKERS = NumericSetting::whole("INVESTIGATOR_HTTP_WORKERS", 1, 256, REFUSED);
    INVESTIGATOR_MIN_POSITION_WAIT_MS =
        NumericSetting::whole("INVESTIGATOR_MIN_POSITION_WAIT_MS", 0, 60_000, "a position not reached is refused at once");
    INVESTIGATOR_KAFKA_STARTUP_TIMEOUT_S =
        NumericSetting::whole("INVESTIGATOR_KAFKA_STARTUP_TIMEOUT_S", 1, 3_600, REFUSED);
    // At least 3 s: renewals every second, so a slow statement or a pause of the process does
    // not lose the lease all the time; at most 300 s: a replica that dies leaves its duties
    // undone for at most this long.
    INVESTIGATOR_LEASE_TTL_S = NumericSetting::whole("INVESTIGATOR_LEASE_TTL_S", 3, 300, REFUSED);
    ARGO_PENDING_WORKFLOW_LIMIT =
        NumericSetting::whole("ARGO_PENDING_WORKFLOW_LIMIT", 0, 1_000_000, "launches paused");
    INVESTIGATOR_OUTBOX_LIMIT = NumericSetting::whole("INVESTIGATOR_OUTBOX_LIMIT", 1, 10_000_000, REFUSED);
    INVESTIGATOR_LAUNCH_INTERVAL_MS = NumericSetting::whole("INVESTIGATOR_LAUNCH_INTERVAL_MS", 1, 60_000, REFUSED);
    INVESTIGATOR_KUBE_QPS = NumericSetting::whole("INVESTIGATOR_KUBE_QPS", 1, 1_000_000, REFUSED);
    INVESTIGATOR_KUBE_BURST = NumericSetting::whole("INVESTIGATOR_KUBE_BURST", 1, 1_000_000, REFUSED);
    INVESTIGATOR_KUBE_NOT_FOUND_GRACE_S =
        NumericSetting::whole("INVESTIGATOR_KUBE_NOT_FOUND_GRACE_S", 0, 86_400, "refused at the first 404");
    INVESTIGATOR_LEARNING_MAX_LAG = NumericSetting::whole(
        "INVESTIGATOR_LEARNING_MAX_LAG", 0, 1_000_000_000, "the drivers queue nothing");
    INVESTIGATOR_LEARNING_MAX_PENDING_WORKFLOWS = NumericSetting::whole(
        "INVESTIGATOR_LEARNING_MAX_PENDING_WORKFLOWS", 0, 1_000_000_000, "the drivers queue nothing");
    INVESTIGATOR_REFRESH_INTERVAL_S =
        NumericSetting::whole("INVESTIGATOR_REFRESH_INTERVAL_S", 1, 2_592_000, REFUSED);
    INVESTIGATOR_RELEASES_INTERVAL_S =
        NumericSetting::whole("INVESTIGATOR_RELEASES_INTERVAL_S", 1, 2_592_000, REFUSED);
    INVESTIGATOR_UPDATES_INTERVAL_S =
        NumericSetting::whole("INVESTIGATOR_UPDATES_INTERVAL_S", 1, 2_592_000, REFUSED);
    INVESTIGATOR_CVES_INTERVAL_S = NumericSetting::whole("INVESTIGATOR_CVES_INTERVAL_S", 1, 2_592_000, REFUSED);
    INVESTIGATOR_REFRESH_COUNT =
        NumericSetting::whole("INVESTIGATOR_REFRESH_COUNT", 0, 1_000_000, "the refresh asks about nothing");
    THOTH_GRAPH_REFRESH_COUNT =
        NumericSetting::whole("THOTH_GRAPH_REFRESH_COUNT", 0, 1_000_000, "the refresh asks about nothing");
    INVESTIGATOR_REFRESH_RETRY_AFTER_S = NumericSetting::whole(
        "INVESTIGATOR_REFRESH_RETRY_AFTER_S", 0, 31_536_000, "an open gap is asked about again every round");
    INVESTIGATOR_LEARNING_INDEX_TIMEOUT_MS =
        NumericSetting::whole("INVESTIGATOR_LEARNING_INDEX_TIMEOUT_MS", 1, 600_000, REFUSED);
    INVESTIGATOR_CVE_DOWNLOAD_TIMEOUT_S =
        NumericSetting::whole("INVESTIGATOR_CVE_DOWNLOAD_TIMEOUT_S", 1, 86_400, REFUSED);
    INVESTIGATOR_CVE_MAX_MB = NumericSetting::whole("INVESTIGATOR_CVE_MAX_MB", 1, 65_536, REFUSED);
    INVESTIGATOR_LEARNING_INDEX_CONCURRENCY =
        NumericSetting::whole("INVESTIGATOR_LEARNING_INDEX_CONCURRENCY", 1, 64, REFUSED);
}

/// How many characters of a refused value an error quotes: enough to recognise it, never a
/// whole secret pasted into the wrong variable.
const QUOTED_CHARS: usize = 24;

/// The start of `value` as an error quotes it.
fn quoted(value: &str) -> String {
    let prefix: String = value.chars().take(QUOTED_CHARS).collect();
    let shown = investigator_events::excerpt::excerpt(&prefix).to_string();
    if prefix.len() < value.len() { format!("{shown}…") } else { shown }
}

impl Reader<'_> {
    /// The setting's whole-number value, when set and within its range (otherwise a problem
    /// naming the variable, the value and the range). `N` must hold the whole range; the
    /// tests read both ends of every range.
    pub(super) fn bounded<N: TryFrom<i64>>(&mut self, setting: &NumericSetting) -> Option<N> {
        self.numbers_read.push(setting.variable);
        let value = self.text(setting.variable)?;
        let trimmed = value.trim();
        let parsed = match setting.form {
            NumberForm::Whole => trimmed.parse::<i64>().ok(),
            NumberForm::WholeOrFloat => trimmed.parse::<i64>().ok().or_else(|| whole_float(trimmed)),
            NumberForm::Fraction => {
                debug_assert!(false, "{} has a fraction: read it with `fraction`", setting.variable);
                None
            }
        };
        let number = parsed.filter(|number| (setting.min..=setting.max).contains(number));
        match number.and_then(|number| N::try_from(number).ok()) {
            Some(number) => Some(number),
            None => {
                self.out_of_range(setting, &value);
                None
            }
        }
    }

    /// The setting's value, fraction allowed, when set and within its range.
    pub(super) fn fraction(&mut self, setting: &NumericSetting) -> Option<f64> {
        debug_assert_eq!(setting.form, NumberForm::Fraction, "{}", setting.variable);
        self.numbers_read.push(setting.variable);
        let value = self.text(setting.variable)?;
        #[allow(clippy::cast_precision_loss)] // the bounds are small whole numbers
        let range = (setting.min as f64)..=(setting.max as f64);
        match value.trim().parse::<f64>() {
            Ok(number) if number.is_finite() && range.contains(&number) => Some(number),
            _ => {
                self.out_of_range(setting, &value);
                None
            }
        }
    }

    fn out_of_range(&mut self, setting: &NumericSetting, value: &str) {
        self.problem(setting.variable, format!("'{}' is not {}", quoted(value), setting.range()));
    }
}

/// `900000.0` as `900000`; `None` for a fraction or a number beyond what a float holds exactly.
fn whole_float(text: &str) -> Option<i64> {
    const EXACT: f64 = 9.0e15;
    let number = text.parse::<f64>().ok()?;
    if number.fract() != 0.0 || !(-EXACT..=EXACT).contains(&number) {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)] // whole and within ±9e15, so exact
    Some(number as i64)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use super::*;
    use crate::settings::{SettingProblem, Settings};

    fn problems(vars: &[(&str, &str)]) -> Vec<SettingProblem> {
        match Settings::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))) {
            Ok(_) => Vec::new(),
            Err(error) => error.0,
        }
    }

    /// What makes every numeric setting read: a broker, and every learning driver.
    fn with_everything_read<'a>(extra: (&'a str, &'a str)) -> Vec<(&'a str, &'a str)> {
        vec![
            ("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"),
            ("INVESTIGATOR_LEARNING_DRIVERS", "refresh,releases,updates,cves"),
            extra,
        ]
    }

    #[test]
    fn every_numeric_setting_refuses_values_outside_its_range_naming_the_variable_and_the_range() {
        for setting in NUMERIC_SETTINGS {
            let range = format!("from {} to {}", setting.min, setting.max);
            let below = (i128::from(setting.min) - 1).to_string();
            let above = (i128::from(setting.max) + 1).to_string();
            for wrong in [below.as_str(), above.as_str(), "twelve", "1e3x"] {
                let problems = problems(&with_everything_read((setting.variable, wrong)));
                assert_eq!(problems.len(), 1, "{} = {wrong}: {problems:?}", setting.variable);
                let SettingProblem { variable, problem } = &problems[0];
                assert_eq!(*variable, setting.variable);
                assert!(problem.contains(&range) && problem.contains(wrong), "{variable} = {wrong}: {problem}");
            }
            for boundary in [setting.min, setting.max] {
                let written = boundary.to_string();
                let problems = problems(&with_everything_read((setting.variable, &written)));
                assert_eq!(problems, [], "{} = {written} is inside its range", setting.variable);
            }
        }
    }

    #[test]
    fn every_numeric_variable_the_settings_read_is_in_the_table() {
        let vars: HashMap<String, Option<String>> = with_everything_read(("THOTH_DEPLOYMENT_NAME", "x"))
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Some(value.to_owned())))
            .collect();
        let read: BTreeSet<&str> = Settings::numbers_read(&vars).into_iter().collect();
        let table: BTreeSet<&str> = NUMERIC_SETTINGS.iter().map(|setting| setting.variable).collect();
        assert_eq!(read, table);
        assert_eq!(table.len(), NUMERIC_SETTINGS.len(), "a variable is listed twice");
    }

    #[test]
    fn a_long_refused_value_is_quoted_by_its_start_only() {
        let long = format!("12345678901234567890123456789{}", "x".repeat(500));
        let problems = problems(&[("INVESTIGATOR_HTTP_WORKERS", &long)]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].problem.len() < 100, "{}", problems[0].problem);
        assert!(problems[0].problem.contains("from 1 to 256"), "{}", problems[0].problem);
    }

    #[test]
    fn thoth_may_write_a_whole_number_as_a_float_where_its_manifests_do() {
        assert_eq!(whole_float("900000.0"), Some(900_000));
        assert_eq!(whole_float("0.5"), None);
        assert_eq!(whole_float("1e300"), None);
        assert_eq!(
            problems(&[("KAFKA_BOOTSTRAP_SERVERS", "k:9092"), ("KAFKA_CONSUMER_SESSION_TIMEOUT_MS", "45000.0")]),
            []
        );
    }
}
