//! A realistic, reproducible stream of domain events: the continuous-learning loop of a Thoth
//! deployment. Releases are seen; for each, a solver runs in three environments (workflow
//! requested, submitted, started, finished, then its result with dependencies, hashes,
//! imports and licence) and a security-indicator analysis follows; now and then a version
//! turns out missing, ships no source distribution, has a CVE or a changed hash, a record is
//! dead-lettered, an advise fails and is parked. Several stories run interleaved, as
//! partitions do, and each append carries the effects of one message (one to four events).
//!
//! The same seed always gives the same events, so tests and benchmarks can repeat a run.

use investigator_events::domain::*;
use investigator_events::thoth::JsonObject;
use investigator_projections::store::{AppendRequest, NewEvent};
use serde_json::json;

/// Real PyPI names, so rows look like the real graph.
const PACKAGES: &[&str] = &[
    "flask",
    "werkzeug",
    "jinja2",
    "click",
    "itsdangerous",
    "markupsafe",
    "requests",
    "urllib3",
    "idna",
    "certifi",
    "charset-normalizer",
    "six",
    "numpy",
    "scipy",
    "pandas",
    "python-dateutil",
    "pytz",
    "attrs",
    "pyyaml",
    "packaging",
    "pyparsing",
    "setuptools",
    "wheel",
    "pip",
    "cryptography",
    "cffi",
    "pycparser",
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "django",
    "sqlparse",
    "asgiref",
    "gunicorn",
    "uvicorn",
    "starlette",
    "fastapi",
    "pydantic",
    "typing-extensions",
    "aiohttp",
    "multidict",
    "yarl",
    "frozenlist",
    "aiosignal",
    "async-timeout",
    "tensorflow",
    "keras",
    "protobuf",
    "grpcio",
    "absl-py",
    "h5py",
    "torch",
    "pillow",
    "matplotlib",
    "kiwisolver",
    "cycler",
    "fonttools",
    "scikit-learn",
    "joblib",
    "threadpoolctl",
    "sqlalchemy",
    "greenlet",
    "psycopg2",
    "redis",
    "celery",
    "kombu",
    "billiard",
    "vine",
    "amqp",
    "lxml",
    "beautifulsoup4",
    "soupsieve",
    "pytest",
    "pluggy",
    "iniconfig",
    "tomli",
    "coverage",
    "mock",
    "toml",
];
const ENVIRONMENTS: [(&str, &str, &str, &str); 3] = [
    ("solver-rhel-8-py38", "rhel", "8", "3.8"),
    ("solver-fedora-34-py39", "fedora", "34", "3.9"),
    ("solver-fedora-35-py310", "fedora", "35", "3.10"),
];
const PYPI: &str = "https://pypi.org/simple";

/// SplitMix64: small, fast and the same everywhere.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// True with `percent` in a hundred (fractions allowed: 0.5).
    fn chance(&mut self, percent: f64) -> bool {
        (self.below(1_000_000) as f64) < percent * 10_000.0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut text = String::with_capacity(digits);
        while text.len() < digits {
            text.push_str(&format!("{:016x}", self.next()));
        }
        text.truncate(digits);
        text
    }
}

/// An endless, reproducible source of append requests.
pub struct Workload {
    random: Random,
    /// Stories under way: each a queue of pending messages (a message = the events of one append).
    stories: Vec<std::collections::VecDeque<Vec<NewEvent>>>,
    next_story: u64,
    offset: i64,
    started: bool,
    lean: bool,
    /// Variants per real name (`flask-17`...); 0 keeps the real names only.
    spread: u64,
}

/// Stories running side by side.
const INTERLEAVED: usize = 8;

impl Workload {
    /// A workload; the same seed gives the same requests.
    pub fn new(seed: u64) -> Self {
        Workload {
            random: Random(seed),
            stories: Vec::new(),
            next_story: 0,
            offset: 0,
            started: false,
            lean: false,
            spread: 0,
        }
    }

    /// The same loop with only its small events (releases seen, workflows' lives): payloads of
    /// about a hundred bytes, one graph row each. For measuring the log itself rather than the
    /// size of solver results.
    pub fn lean(seed: u64) -> Self {
        Workload { lean: true, ..Workload::new(seed) }
    }

    /// The same loop over `spread` variants of each real name (`flask-0` ... `flask-<spread-1>`),
    /// for a graph of many packages with a few versions each, as PyPI's is.
    pub fn spread(seed: u64, spread: u64) -> Self {
        Workload { spread, ..Workload::new(seed) }
    }

    /// The next append request (the effects of one message).
    pub fn next_request(&mut self) -> AppendRequest {
        if !self.started {
            self.started = true;
            return AppendRequest { events: self.index_registrations(), ..AppendRequest::default() };
        }
        while self.stories.len() < INTERLEAVED {
            let story = self.story();
            self.stories.push(story);
        }
        let slot = self.random.below(self.stories.len() as u64) as usize;
        let events = self.stories[slot].pop_front().unwrap_or_default();
        if self.stories[slot].is_empty() {
            self.stories.swap_remove(slot);
        }
        AppendRequest { events, ..AppendRequest::default() }
    }

    /// Requests holding at least `events` events in all.
    pub fn requests(&mut self, events: usize) -> Vec<AppendRequest> {
        let mut requests = Vec::new();
        let mut count = 0;
        while count < events {
            let request = self.next_request();
            count += request.events.len();
            requests.push(request);
        }
        requests
    }

    fn index_registrations(&mut self) -> Vec<NewEvent> {
        let pypi = IndexRegistered {
            url: PYPI.to_owned(),
            warehouse_api_url: Some("https://pypi.org/pypi".to_owned()),
            verify_ssl: true,
            only_if_package_seen: true,
            enabled: true,
        };
        vec![self.new_event(StreamId::index(PYPI), pypi.into(), 0)]
    }

    fn new_event(&mut self, stream: StreamId, event: DomainEvent, story: u64) -> NewEvent {
        self.offset += 1;
        let metadata = EventMetadata {
            source: Some(SourceRecord {
                topic: "ocp4-stage.thoth.package-release.package-released".to_owned(),
                partition: (story % 3) as i32,
                offset: self.offset,
            }),
            correlation_id: Some(format!("story-{story}")),
            causation_id: None,
            traceparent: Some(format!("00-{}-{}-01", self.random.hex(32), self.random.hex(16))),
            origin: Some("kafka".to_owned()),
        };
        NewEvent { stream, event, metadata }
    }

    /// One release and everything that follows from it, as messages.
    fn story(&mut self) -> std::collections::VecDeque<Vec<NewEvent>> {
        let story = self.next_story;
        self.next_story += 1;
        // The first story takes every rare turn, so even a short run covers every rule.
        let rare = |random: &mut Random, percent: f64| story == 0 || random.chance(percent);
        let name = (*self.random.pick(PACKAGES)).to_owned();
        let name = if self.spread == 0 { name } else { format!("{name}-{}", self.random.below(self.spread)) };
        let version = self.version();
        let package = StreamId::package(&name);
        let mut messages = std::collections::VecDeque::new();

        let seen = PackageVersionSeen {
            package_name: name.clone(),
            package_version: version.clone(),
            index_url: PYPI.to_owned(),
        };
        messages.push_back(vec![self.new_event(package.clone(), seen.into(), story)]);

        for (solver, os_name, os_version, python_version) in ENVIRONMENTS {
            let workflow_id = format!("{solver}-{}", self.random.hex(16));
            let target = WorkflowTarget {
                package_name: Some(name.clone()),
                package_version: Some(version.clone()),
                index_url: Some(PYPI.to_owned()),
                solver_name: Some(solver.to_owned()),
            };
            let failed = rare(&mut self.random, 3.0);
            messages.extend(self.workflow(
                story,
                &workflow_id,
                WorkflowKind::Solver,
                "thoth-middletier-stage",
                target,
                !failed,
            ));
            if self.lean {
                continue;
            }
            let mut result =
                self.solver_result(&name, &version, &workflow_id, (solver, os_name, os_version, python_version));
            if failed {
                // A failed solve still reports what failed; sometimes the index lacks the version.
                let provided = !rare(&mut self.random, 50.0) || solver != ENVIRONMENTS[0].0;
                result.packages.clear();
                result.errors.push(SolverError {
                    package_name: name.clone(),
                    package_version: Some(version.clone()),
                    index_url: Some(PYPI.to_owned()),
                    error_type: "command_error".to_owned(),
                    details: json!({"return_code": 1, "stderr": "ERROR: No matching distribution found"}),
                    is_provided_package: true,
                    is_provided_package_version: provided,
                });
            }
            let stream = StreamId::solver_document(&result.document_id);
            messages.push_back(vec![self.new_event(stream, result.into(), story)]);
        }

        if self.lean {
            return messages;
        }
        let si_workflow = format!("security-indicator-{}", self.random.hex(16));
        let target = WorkflowTarget {
            package_name: Some(name.clone()),
            package_version: Some(version.clone()),
            index_url: Some(PYPI.to_owned()),
            solver_name: None,
        };
        messages.extend(self.workflow(
            story,
            &si_workflow,
            WorkflowKind::SecurityIndicator,
            "thoth-middletier-stage",
            target,
            true,
        ));
        let si = self.security_indicator(&name, &version, &si_workflow);
        messages.push_back(vec![self.new_event(package.clone(), si.into(), story)]);

        let identity = (name.clone(), version.clone(), PYPI.to_owned());
        if rare(&mut self.random, 5.0) {
            let flag = SourceDistributionFlagSet {
                package_name: identity.0.clone(),
                package_version: identity.1.clone(),
                index_url: identity.2.clone(),
                provides_source_distro: false,
            };
            messages.push_back(vec![self.new_event(package.clone(), flag.into(), story)]);
        }
        if rare(&mut self.random, 2.0) {
            let missing = VersionMarkedMissing {
                package_name: identity.0.clone(),
                package_version: identity.1.clone(),
                index_url: identity.2.clone(),
            };
            messages.push_back(vec![self.new_event(package.clone(), missing.into(), story)]);
        }
        if rare(&mut self.random, 0.3) {
            let missing = PackageMarkedMissing { package_name: identity.0.clone(), index_url: identity.2.clone() };
            messages.push_back(vec![self.new_event(package.clone(), missing.into(), story)]);
        }
        if rare(&mut self.random, 1.0) {
            let mismatch = HashMismatchRecorded {
                package_name: identity.0.clone(),
                package_version: identity.1.clone(),
                index_url: identity.2.clone(),
                missing_from_source: vec![self.random.hex(64)],
                missing_from_database: vec![self.random.hex(64)],
            };
            messages.push_back(vec![self.new_event(package.clone(), mismatch.into(), story)]);
        }
        if rare(&mut self.random, 1.0) {
            let cve_id = format!("PYSEC-2021-{}", self.random.below(900) + 100);
            let cve = CveProvided {
                package_name: identity.0.clone(),
                package_version: identity.1.clone(),
                index_url: identity.2.clone(),
                advisory: Some(CveAdvisory {
                    details: format!("{name} before {version} allows remote attackers to cause a denial of service"),
                    link: Some(format!("https://osv.dev/vulnerability/{cve_id}")),
                    cve_id,
                }),
            };
            messages.push_back(vec![self.new_event(package.clone(), cve.into(), story)]);
        }
        if rare(&mut self.random, 0.5) {
            let offset = self.random.below(1_000_000) as i64;
            let topic = "ocp4-stage.thoth.investigator.unresolved-package".to_owned();
            let letter = MessageDeadLettered {
                key: None,
                payload: DeadLetterPayload::Text(format!("{{\"package_name\": \"{name}\", \"index_url\": 7}}")),
                reason_code: "invalid_message".to_owned(),
                reason: "field 'index_url': invalid type: integer `7`, expected a string".to_owned(),
                attempts: 1,
                partition: 0,
                offset,
                topic: topic.clone(),
            };
            let stream = StreamId::dead_letter(&topic, 0, offset);
            messages.push_back(vec![self.new_event(stream.clone(), letter.into(), story)]);
            // Operators re-drive some dead letters and discard others.
            if rare(&mut self.random, 30.0) {
                let redriven = DeadLetterRedriven {
                    topic: topic.clone(),
                    partition: 0,
                    offset,
                    republished_offset: Some(offset + 1),
                    republish: None,
                };
                messages.push_back(vec![self.new_event(stream, redriven.into(), story)]);
            } else if rare(&mut self.random, 30.0) {
                let discarded = DeadLetterDiscarded { topic, partition: 0, offset, reason: Some("a typo".to_owned()) };
                messages.push_back(vec![self.new_event(stream, discarded.into(), story)]);
            }
        }
        if rare(&mut self.random, 5.0) {
            // The graph refresh asks about a gap, sometimes twice (after its retry interval).
            let attempts = if rare(&mut self.random, 30.0) { 2 } else { 1 };
            for attempt in 1..=attempts {
                let queued = LearningMessageQueued {
                    driver: "refresh".to_owned(),
                    finding: format!("unrevsolved/{name}/{version}"),
                    attempt,
                    reason: "never reverse-solved".to_owned(),
                    topic: "thoth.investigator.unrevsolved-package".to_owned(),
                    message: json!({"component_name": "thoth-investigator-refresh", "service_version": "0.1.0",
                                    "package_name": name, "package_version": version}),
                };
                messages.push_back(vec![self.new_event(StreamId::learning("refresh"), queued.into(), story)]);
            }
        }
        if rare(&mut self.random, 2.0) {
            let throttled = self.random.chance(50.0);
            let change = LearningThrottleChanged {
                driver: "refresh".to_owned(),
                throttled,
                lag: if throttled { 2_400 } else { 300 },
                pending_workflows: 12,
                max_lag: 2_000,
                max_pending_workflows: 1_000,
            };
            messages.push_back(vec![self.new_event(StreamId::learning("refresh"), change.into(), story)]);
        }
        if rare(&mut self.random, 1.0) {
            messages.push_back(self.adviser_run(story, &name));
        }
        if rare(&mut self.random, 0.5) {
            // A topic created again under a consumer: its stored offset was reset.
            let topic = "thoth.investigator.unresolved-package".to_owned();
            let reset = ConsumerOffsetReset {
                consumer_group: "thoth.investigator".to_owned(),
                topic: topic.clone(),
                partition: 0,
                stored_offset: Some(30_004),
                low_watermark: Some(0),
                high_watermark: Some(1),
                policy: "earliest".to_owned(),
                reset_to: 0,
            };
            let stream = StreamId::consumer_offset("thoth.investigator", &topic, 0);
            messages.push_back(vec![self.new_event(stream, reset.into(), story)]);
        }
        messages
    }

    fn version(&mut self) -> String {
        format!("{}.{}.{}", self.random.below(5), self.random.below(30), self.random.below(12))
    }

    /// The messages of one workflow's life.
    fn workflow(
        &mut self,
        story: u64,
        workflow_id: &str,
        kind: WorkflowKind,
        namespace: &str,
        target: WorkflowTarget,
        succeeded: bool,
    ) -> Vec<Vec<NewEvent>> {
        let stream = StreamId::workflow(workflow_id);
        let mut parameters = JsonObject::new();
        if let Some(name) = &target.package_name {
            parameters.insert("THOTH_PACKAGE_NAME".to_owned(), json!(name));
        }
        let requested = WorkflowRequested {
            workflow_id: workflow_id.to_owned(),
            kind,
            namespace: namespace.to_owned(),
            target,
            parameters,
            trigger: Some("thoth.package-release.package-released".to_owned()),
            version_source: None,
        };
        let submitted = WorkflowSubmitted { workflow_id: workflow_id.to_owned(), namespace: namespace.to_owned() };
        let started =
            WorkflowStarted { workflow_id: workflow_id.to_owned(), started_at: "2026-11-20T10:00:00Z".to_owned() };
        let finished: DomainEvent = if succeeded {
            WorkflowSucceeded { workflow_id: workflow_id.to_owned(), finished_at: "2026-11-20T10:03:12Z".to_owned() }
                .into()
        } else {
            WorkflowFailed {
                workflow_id: workflow_id.to_owned(),
                phase: "Failed".to_owned(),
                finished_at: Some("2026-11-20T10:01:40Z".to_owned()),
                message: Some("child 'solve' failed".to_owned()),
            }
            .into()
        };
        vec![
            vec![
                self.new_event(stream.clone(), requested.into(), story),
                self.new_event(stream.clone(), submitted.into(), story),
            ],
            vec![self.new_event(stream.clone(), started.into(), story)],
            vec![self.new_event(stream, finished, story)],
        ]
    }

    fn solver_result(
        &mut self,
        name: &str,
        version: &str,
        workflow_id: &str,
        env: (&str, &str, &str, &str),
    ) -> SolverResultRecorded {
        let (solver, os_name, os_version, python_version) = env;
        let dependencies: Vec<SolvedDependency> = (0..self.random.below(6))
            .map(|_| {
                let dependency = (*self.random.pick(PACKAGES)).to_owned();
                let versions = (0..1 + self.random.below(5)).map(|_| self.version()).collect();
                let with_extra = self.random.chance(15.0);
                SolvedDependency {
                    package_name: dependency,
                    specifier: format!(">={}.{}", self.random.below(3), self.random.below(10)),
                    extras: Vec::new(),
                    extra: if with_extra { vec!["test".to_owned()] } else { Vec::new() },
                    marker: with_extra.then(|| "extra == \"test\"".to_owned()),
                    marker_evaluated: with_extra.then(|| "python_version >= \"0.0\"".to_owned()),
                    marker_evaluation_result: true,
                    marker_evaluation_error: None,
                    resolved_versions: vec![ResolvedVersions { index: Some(PYPI.to_owned()), versions }],
                }
            })
            .collect();
        let requires: Vec<String> =
            dependencies.iter().map(|d| format!("{} ({})", d.package_name, d.specifier)).collect();
        let mut metadata = JsonObject::new();
        metadata.insert(
            "metadata".to_owned(),
            json!({
                "Metadata-Version": "2.1",
                "Name": name,
                "Version": version,
                "Summary": format!("The {name} package"),
                "License": "BSD-3-Clause",
                "Requires-Python": ">=3.6",
                "Requires-Dist": requires,
            }),
        );
        metadata.insert("version".to_owned(), json!(version));
        let sha256 = (0..1 + self.random.below(3)).map(|_| self.random.hex(64)).collect();
        let imports = vec![name.replace('-', "_")];
        SolverResultRecorded {
            document_id: format!("{workflow_id}-{}", self.random.hex(8)),
            solver_name: solver.to_owned(),
            solver_version: "1.13.1".to_owned(),
            os_name: os_name.to_owned(),
            os_version: os_version.to_owned(),
            python_version: python_version.to_owned(),
            datetime: format!("2026-11-20T10:0{}:{:02}.000000", self.random.below(10), self.random.below(60)),
            duration: Some(5 + self.random.below(60) as i64),
            platform: Some("linux-x86_64".to_owned()),
            packages: vec![SolvedPackage {
                package_name: name.to_owned(),
                package_version: version.to_owned(),
                installed_version: version.to_owned(),
                index_url: PYPI.to_owned(),
                importlib_metadata: metadata,
                sha256,
                imports,
                license: Some(SolverLicense {
                    name: "BSD 3-Clause \"New\" or \"Revised\" License".to_owned(),
                    identifier: "BSD-3-Clause".to_owned(),
                    version: "UNKNOWN".to_owned(),
                    warning: false,
                }),
                dependencies,
            }],
            errors: Vec::new(),
            unresolved: Vec::new(),
            unparsed: Vec::new(),
        }
    }

    fn security_indicator(&mut self, name: &str, version: &str, document_id: &str) -> SecurityIndicatorRecorded {
        let error = self.random.chance(10.0);
        let mut counters = SecurityIndicatorCounters::default();
        if !error {
            counters.severity_low_confidence_high = self.random.below(20) as i32;
            counters.severity_medium_confidence_medium = self.random.below(5) as i32;
            counters.number_of_python_files = 1 + self.random.below(200) as i32;
            counters.total_number_of_lines = 100 + self.random.below(50_000) as i32;
        }
        SecurityIndicatorRecorded {
            document_id: document_id.to_owned(),
            datetime: "2026-11-20T11:00:00.000000".to_owned(),
            package_name: name.to_owned(),
            package_version: version.to_owned(),
            index_url: PYPI.to_owned(),
            error,
            counters,
        }
    }

    fn adviser_run(&mut self, story: u64, unresolved: &str) -> Vec<NewEvent> {
        let document_id = format!("adviser-261120{:06}-{}", self.random.below(1_000_000), self.random.hex(16));
        let stream = StreamId::adviser(&document_id);
        let parked = self.random.chance(50.0);
        let run = AdviserRunRecorded {
            adviser_document_id: document_id.clone(),
            datetime: "2026-11-20T12:00:00.000000".to_owned(),
            adviser_version: "0.21.1".to_owned(),
            adviser_name: "thoth-adviser".to_owned(),
            source_type: Some("KEBECHET".to_owned()),
            origin: Some("https://github.com/thoth-station/example".to_owned()),
            recommendation_type: Some("stable".to_owned()),
            re_run_adviser_id: None,
            error: parked,
            error_msg: parked.then(|| format!("no versions were found for packages {unresolved}")),
            parameters: JsonObject::new(),
            runtime_environment: JsonObject::new(),
            unresolved: if parked { vec![unresolved.to_owned()] } else { Vec::new() },
        };
        let mut events = vec![self.new_event(stream.clone(), run.into(), story)];
        if parked {
            let parking = AdviserParked {
                adviser_document_id: document_id,
                unresolved: vec![UnresolvedPackage {
                    package_name: unresolved.to_owned(),
                    index_url: Some(PYPI.to_owned()),
                }],
                solver_name: Some("solver-rhel-8-py38".to_owned()),
            };
            events.push(self.new_event(stream, parking.into(), story));
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lean_workload_has_no_solver_results() {
        let requests = Workload::lean(3).requests(2_000);
        assert!(requests.iter().flat_map(|request| &request.events).all(|event| !matches!(
            event.event.event_type(),
            EventType::SolverResultRecorded | EventType::SecurityIndicatorRecorded
        )));
    }

    #[test]
    fn the_same_seed_gives_the_same_events_and_every_type_of_the_loop_appears() {
        let first = Workload::new(7).requests(5_000);
        let second = Workload::new(7).requests(5_000);
        assert_eq!(first, second);
        let types: std::collections::BTreeSet<EventType> =
            first.iter().flat_map(|request| request.events.iter().map(|event| event.event.event_type())).collect();
        for expected in [
            EventType::SolverResultRecorded,
            EventType::WorkflowFailed,
            EventType::CveProvided,
            EventType::AdviserParked,
        ] {
            assert!(types.contains(&expected), "{expected} missing from {types:?}");
        }
        assert!(first.iter().all(|request| (1..=4).contains(&request.events.len())));
    }
}
