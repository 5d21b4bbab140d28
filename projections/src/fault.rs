//! Outage or bad data: the one place that says whether a failure to record is the data's own
//! fault (retrying the same data cannot succeed, so the message at fault becomes a dead
//! letter) or the infrastructure's (retried with backoff until it passes, never a dead letter).
//!
//! Only PostgreSQL's verdict on the data counts as the data's fault: SQLSTATE classes 21
//! (cardinality: a batch asked to write one row twice), 22 (a value PostgreSQL cannot store
//! or compare), 23 (a constraint) and 54 (a program limit: an index row too large), except the
//! conflicts a concurrent writer causes (`23505` unique and `23P01` exclusion violations),
//! which a retry resolves. Everything else is an outage: a lost connection (08), a
//! transaction that lost a race (40), resources (53), a lock that was not available (55P03),
//! an administrator or a statement timeout (57), a pooler's error (`26000` "prepared statement
//! does not exist", `42P05` "already exists"), no SQLSTATE at all (I/O, a closed connection, a
//! pool timeout), and anything that is not a driver error.

use std::error::Error;

use investigator_events::error_chain::{find_cause, one_line};

/// Who is at fault when recording failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The data: retrying cannot succeed.
    Data,
    /// The infrastructure: retrying later will.
    Outage,
}

impl Fault {
    /// The fault behind `error`, from the first PostgreSQL error in its chain.
    pub fn of(error: &(dyn Error + 'static)) -> Fault {
        let Some(code) = find_cause::<tokio_postgres::Error>(error).and_then(tokio_postgres::Error::code) else {
            return Fault::Outage;
        };
        Fault::of_sqlstate(code.code())
    }

    /// The fault a SQLSTATE stands for.
    pub fn of_sqlstate(code: &str) -> Fault {
        const RETRYABLE_CONFLICTS: [&str; 2] = ["23505", "23P01"];
        let data_class = ["21", "22", "23", "54"].iter().any(|class| code.starts_with(class));
        if data_class && !RETRYABLE_CONFLICTS.contains(&code) { Fault::Data } else { Fault::Outage }
    }
}

/// `error` as a log field or a reason: its causes on one line and, when PostgreSQL answered,
/// the SQLSTATE. The driver's own text is only `db error`; the server's message is its
/// cause, and the code is nowhere in the text.
pub fn describe(error: &(dyn Error + 'static)) -> String {
    let text = one_line(error);
    match find_cause::<tokio_postgres::Error>(error).and_then(tokio_postgres::Error::code) {
        Some(code) => format!("{text} (SQLSTATE {})", code.code()),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_constraints_are_the_datas_fault() {
        for code in ["22P05", "22021", "22001", "22003", "23502", "23503", "23514", "21000", "54000"] {
            assert_eq!(Fault::of_sqlstate(code), Fault::Data, "{code}");
        }
    }

    #[test]
    fn connections_races_poolers_and_timeouts_are_outages() {
        for code in ["08006", "08P01", "40001", "40P01", "53300", "55P03", "57014", "57P01", "26000", "42P05", "42P01"]
        {
            assert_eq!(Fault::of_sqlstate(code), Fault::Outage, "{code}");
        }
    }

    #[test]
    fn a_concurrent_writers_conflict_is_retried() {
        assert_eq!(Fault::of_sqlstate("23505"), Fault::Outage);
        assert_eq!(Fault::of_sqlstate("23P01"), Fault::Outage);
    }

    #[test]
    fn an_error_without_a_sqlstate_is_an_outage() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(Fault::of(&io), Fault::Outage);
    }
}
