//! The Kubernetes manifests under `ops/deploy`: every kustomization renders with `kustomize
//! build`, without a warning and without a deprecated field, and what the example overlay renders
//! is what the investigator needs on a cluster and no more: its Deployment and Service, its
//! settings, permissions on workflows (and the Secrets holding registry credentials) in the two
//! workflow namespaces only, and WorkflowTemplates that declare Thoth's parameter names
//! (spec/argo-workflows.md §1.2).
//!
//! kustomize v4.5.4 is required (`INVESTIGATOR_TEST_KUSTOMIZE`, set by scripts/test.sh, which
//! installs it with scripts/kustomize.sh): without it these tests fail and say so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use investigator_tests::environment;

use serde::Deserialize;
use serde_json::{Value, json};

/// The example overlay, relative to the workspace root.
const EXAMPLE_OVERLAY: &str = "ops/deploy/overlays/example";
/// Where the example overlay puts the investigator.
const INVESTIGATOR_NAMESPACE: &str = "thoth-investigator";
/// The image the example overlay pins with kustomize `images:`.
const EXAMPLE_IMAGE: &str = "quay.io/thoth-station/investigator-rs:0.1.0";
/// The Thoth deployment name (topic prefix) the example overlay sets.
const EXAMPLE_DEPLOYMENT_NAME: &str = "ocp4-example";
const MIDDLETIER: &str = "thoth-middletier";
const BACKEND: &str = "thoth-backend";
const WORKFLOW_NAMESPACES: [&str; 2] = [MIDDLETIER, BACKEND];
/// The Role (and RoleBinding) for workflows, and the one for registry-credential Secrets.
const WORKFLOWS_ROLE: &str = "investigator-workflows";
const SECRETS_ROLE: &str = "investigator-workflow-secrets";

/// The Deployment (and Service) of `serve --api-only` over a standby.
const API_READERS: &str = "investigator-api";

/// Thoth's Ceph arguments, which every analysis workflow takes (spec §1.1).
const CEPH_PARAMETERS: [&str; 4] = ["ceph_bucket_prefix", "ceph_bucket_name", "ceph_host", "deployment_name"];

/// What one example WorkflowTemplate must be.
struct ExpectedTemplate {
    name: &'static str,
    namespace: &'static str,
    /// The ConfigMap variable naming the template, and the one naming its namespace.
    name_variable: &'static str,
    namespace_variable: &'static str,
    /// Thoth's `component` label.
    component: &'static str,
    ttl_seconds: u64,
    /// The image as the example overlay pins it.
    image: &'static str,
    /// Whether its container runs on a read-only root filesystem (with a writable `/tmp`).
    read_only_root: bool,
    /// Thoth's parameter names for this kind, besides the Ceph ones (spec §1.2).
    parameters: &'static [&'static str],
}

const WORKFLOW_TEMPLATES: [ExpectedTemplate; 3] = [
    ExpectedTemplate {
        name: "solver",
        namespace: MIDDLETIER,
        name_variable: "INVESTIGATOR_WORKFLOW_TEMPLATE_SOLVER",
        namespace_variable: "THOTH_MIDDLETIER_NAMESPACE",
        component: "solver",
        ttl_seconds: 25,
        image: "quay.io/thoth-station/{{workflow.parameters.THOTH_SOLVER_NAME}}:v1.10.3",
        read_only_root: false,
        parameters: &[
            "THOTH_SOLVER_WORKFLOW_ID",
            "THOTH_SOLVER_NAME",
            "THOTH_SOLVER_PACKAGES",
            "THOTH_SOLVER_NO_TRANSITIVE",
            "THOTH_SOLVER_INDEXES",
            "THOTH_SOLVER_DEPENDENCY_INDEXES",
            "THOTH_FORCE_SYNC",
            "THOTH_LOG_SOLVER",
        ],
    },
    ExpectedTemplate {
        name: "security-indicator",
        namespace: MIDDLETIER,
        name_variable: "INVESTIGATOR_WORKFLOW_TEMPLATE_SECURITY_INDICATOR",
        namespace_variable: "THOTH_MIDDLETIER_NAMESPACE",
        component: "security-indicators",
        ttl_seconds: 25,
        image: "quay.io/thoth-station/si-bandit:v0.2.1",
        read_only_root: true,
        parameters: &[
            "THOTH_SECURITY_INDICATORS_JOB_ID",
            "THOTH_SECURITY_INDICATORS_PACKAGE_NAME",
            "THOTH_SECURITY_INDICATORS_PACKAGE_VERSION",
            "THOTH_SECURITY_INDICATORS_PACKAGE_INDEX",
            "THOTH_SECURITY_INDICATORS_AGGREGATION_FUNCTION",
            "THOTH_FORCE_SYNC",
        ],
    },
    ExpectedTemplate {
        name: "adviser",
        namespace: BACKEND,
        name_variable: "INVESTIGATOR_WORKFLOW_TEMPLATE_ADVISER",
        namespace_variable: "THOTH_BACKEND_NAMESPACE",
        component: "adviser",
        ttl_seconds: 300,
        image: "quay.io/thoth-station/adviser:v0.52.2",
        read_only_root: true,
        parameters: &[
            "THOTH_ADVISER_JOB_ID",
            "THOTH_ADVISER_DEV",
            "THOTH_LOG_ADVISER",
            "THOTH_ADVISER_RECOMMENDATION_TYPE",
            "THOTH_AUTHENTICATED_ADVISE",
            "THOTH_ADVISER_PREDICTOR_CONFIG",
            "THOTH_ADVISER_METADATA",
            "THOTH_ADVISER_LIMIT",
            "THOTH_ADVISER_COUNT",
            "THOTH_ADVISER_DEPLOYMENT_PACKAGE_UPDATE",
        ],
    },
];

#[test]
fn example_overlay_renders_each_expected_object_exactly_once_and_nothing_else() {
    let rendered = Rendered::example();

    let found: Vec<(String, String, String)> = rendered.objects.iter().map(identity).collect();
    let unique: BTreeSet<(String, String, String)> = found.iter().cloned().collect();
    assert_eq!(unique.len(), found.len(), "an object is rendered twice: {found:?}");
    assert!(
        !found.iter().any(|(kind, _, _)| kind == "Secret"),
        "the Secret holds real credentials: it is created by hand (ops/deploy/secret.example.yaml), never rendered"
    );

    let mut expected = vec![
        ("ServiceAccount", INVESTIGATOR_NAMESPACE, "investigator"),
        ("ConfigMap", INVESTIGATOR_NAMESPACE, "investigator-config"),
        ("Deployment", INVESTIGATOR_NAMESPACE, "investigator"),
        ("Service", INVESTIGATOR_NAMESPACE, "investigator"),
        ("Deployment", INVESTIGATOR_NAMESPACE, API_READERS),
        ("Service", INVESTIGATOR_NAMESPACE, API_READERS),
        ("PodDisruptionBudget", INVESTIGATOR_NAMESPACE, "investigator"),
        ("PodDisruptionBudget", INVESTIGATOR_NAMESPACE, API_READERS),
    ];
    for namespace in WORKFLOW_NAMESPACES {
        for role in [WORKFLOWS_ROLE, SECRETS_ROLE] {
            expected.push(("Role", namespace, role));
            expected.push(("RoleBinding", namespace, role));
        }
    }
    for template in &WORKFLOW_TEMPLATES {
        expected.push(("WorkflowTemplate", template.namespace, template.name));
    }
    let expected: BTreeSet<(String, String, String)> = expected
        .into_iter()
        .map(|(kind, namespace, name)| (kind.to_owned(), namespace.to_owned(), name.to_owned()))
        .collect();
    assert_eq!(unique, expected, "the objects rendered (kind, namespace, name)");

    let api_versions = BTreeMap::from([
        ("ServiceAccount", "v1"),
        ("ConfigMap", "v1"),
        ("Service", "v1"),
        ("Deployment", "apps/v1"),
        ("PodDisruptionBudget", "policy/v1"),
        ("Role", "rbac.authorization.k8s.io/v1"),
        ("RoleBinding", "rbac.authorization.k8s.io/v1"),
        ("WorkflowTemplate", "argoproj.io/v1alpha1"),
    ]);
    for object in &rendered.objects {
        let kind = text(object, "/kind");
        assert_eq!(text(object, "/apiVersion"), api_versions[kind], "the apiVersion of {:?}", identity(object));
    }
}

#[test]
fn deployment_serves_on_6066_with_health_probes_as_a_locked_down_non_root_container() {
    let rendered = Rendered::example();
    let deployment = rendered.one("Deployment", INVESTIGATOR_NAMESPACE, "investigator");
    assert!(deployment["spec"]["replicas"].as_u64() >= Some(2), "the duties move to a second replica: {deployment:#}");
    let rollout = &deployment["spec"]["strategy"]["rollingUpdate"];
    assert_eq!(rollout["maxUnavailable"], 0, "a rollout never leaves fewer replicas running: {deployment:#}");

    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "investigator");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    let container = investigator_container(deployment);
    assert_eq!(container["name"], "investigator");
    assert_eq!(container["image"], EXAMPLE_IMAGE, "the overlay's image tag is applied");
    assert_eq!(container["args"], json!(["serve"]));
    assert_eq!(named_port(container, "http"), 6066);

    assert_probes(container);

    let security = &container["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"], json!({"drop": ["ALL"]}));
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);

    for bound in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(container["resources"][bound][resource].is_string(), "resources.{bound}.{resource} is set");
        }
    }

    assert_eq!(container["envFrom"], json!([{"configMapRef": {"name": "investigator-config"}}]));
    let secret_references: BTreeMap<&str, (&str, &str)> = array(container, "/env")
        .iter()
        .filter(|variable| variable.pointer("/valueFrom/secretKeyRef").is_some())
        .map(|variable| {
            let reference = &variable["valueFrom"]["secretKeyRef"];
            (text(variable, "/name"), (text(reference, "/name"), text(reference, "/key")))
        })
        .collect();
    assert_eq!(
        secret_references,
        BTreeMap::from([
            ("DATABASE_URL", ("investigator-secrets", "database-url")),
            ("INVESTIGATOR_API_TOKEN", ("investigator-secrets", "api-token")),
        ])
    );
    let plain_values: Vec<&str> = array(container, "/env")
        .iter()
        .filter(|variable| variable.get("value").is_some())
        .map(|variable| text(variable, "/name"))
        .collect();
    assert!(plain_values.is_empty(), "settings go in the ConfigMap, secrets in the Secret: {plain_values:?}");
}

#[test]
fn service_sends_port_6066_to_the_investigator_pods_http_port() {
    let rendered = Rendered::example();
    let service = rendered.one("Service", INVESTIGATOR_NAMESPACE, "investigator");
    let deployment = rendered.one("Deployment", INVESTIGATOR_NAMESPACE, "investigator");

    let [port] = array(service, "/spec/ports") else { panic!("one port: {service:#}") };
    assert_eq!(port["port"], 6066);
    assert_eq!(container_port(investigator_container(deployment), &port["targetPort"]), 6066);

    let selector = service["spec"]["selector"].as_object().expect("a selector");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert!(!selector.is_empty(), "an empty selector would match every pod of the namespace");
    for (label, value) in selector {
        assert_eq!(&pod_labels[label], value, "the pods carry the selector's label {label}");
    }
}

/// Readiness on `/_ready` (the consumer group joined, the lease asked for, nothing degraded),
/// liveness on Thoth's `/_health`, both on 6066.
fn assert_probes(container: &Value) {
    for (probe, path) in [("readinessProbe", "/_ready"), ("livenessProbe", "/_health")] {
        let request = &container[probe]["httpGet"];
        assert_eq!(request["path"], path, "{probe}");
        assert_eq!(container_port(container, &request["port"]), 6066, "{probe}");
    }
}

#[test]
fn api_readers_serve_the_api_only_from_the_standby_behind_a_service_of_their_own() {
    let rendered = Rendered::example();
    let readers = rendered.one("Deployment", INVESTIGATOR_NAMESPACE, API_READERS);
    assert!(readers["spec"]["replicas"].as_u64() >= Some(2), "reads scale out: {readers:#}");
    let container = investigator_container(readers);
    assert_eq!(container["image"], EXAMPLE_IMAGE);
    assert_eq!(container["args"], json!(["serve", "--api-only"]));
    let database = array(container, "/env")
        .iter()
        .find(|variable| variable["name"] == "DATABASE_URL")
        .expect("DATABASE_URL is set");
    assert_eq!(
        database["valueFrom"]["secretKeyRef"],
        json!({"name": "investigator-secrets", "key": "standby-database-url"})
    );
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_probes(container);
    let pod = &readers["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false, "readers need no Kubernetes credentials");
    assert!(pod.get("serviceAccountName").is_none(), "{pod:#}");

    // Writers reach the consumers' pods only, readers the readers' only: a write sent to a
    // standby would be refused.
    for (service_name, deployment_name, other) in
        [("investigator", "investigator", API_READERS), (API_READERS, API_READERS, "investigator")]
    {
        let service = rendered.one("Service", INVESTIGATOR_NAMESPACE, service_name);
        let selector = service["spec"]["selector"].as_object().expect("a selector");
        let selects = |deployment: &str| {
            let labels = &rendered.one("Deployment", INVESTIGATOR_NAMESPACE, deployment)["spec"]["template"]["metadata"]
                ["labels"];
            selector.iter().all(|(label, value)| &labels[label] == value)
        };
        assert!(selects(deployment_name), "{service_name} selects {deployment_name}'s pods");
        assert!(!selects(other), "{service_name} must not select {other}'s pods");
    }

    // A drain takes one pod of each at a time.
    for name in ["investigator", API_READERS] {
        let budget = rendered.one("PodDisruptionBudget", INVESTIGATOR_NAMESPACE, name);
        assert_eq!(budget["spec"]["maxUnavailable"], 1, "{budget:#}");
        let pods = &rendered.one("Deployment", INVESTIGATOR_NAMESPACE, name)["spec"]["template"]["metadata"]["labels"];
        for (label, value) in budget["spec"]["selector"]["matchLabels"].as_object().expect("matchLabels") {
            assert_eq!(&pods[label], value, "the budget of {name} selects its pods");
        }
    }
}

#[test]
fn roles_grant_only_workflow_create_get_list_watch_and_secret_create_get_patch_in_each_workflow_namespace() {
    let rendered = Rendered::example();
    for namespace in WORKFLOW_NAMESPACES {
        let workflows = rendered.one("Role", namespace, WORKFLOWS_ROLE);
        assert_eq!(
            rules(workflows),
            vec![Rule::new(&["argoproj.io"], &["workflows"], &["create", "get", "list", "watch"])],
            "{namespace}/{WORKFLOWS_ROLE}"
        );
        let secrets = rendered.one("Role", namespace, SECRETS_ROLE);
        assert_eq!(
            rules(secrets),
            vec![Rule::new(&[""], &["secrets"], &["create", "get", "patch"])],
            "{namespace}/{SECRETS_ROLE}"
        );
    }
    for role in rendered.of_kind("Role") {
        assert!(!role["rules"].to_string().contains("\"*\""), "no wildcard in {:?}", identity(role));
    }
}

#[test]
fn role_bindings_bind_the_investigator_service_account_in_its_own_namespace() {
    let rendered = Rendered::example();
    let account = rendered.one("ServiceAccount", INVESTIGATOR_NAMESPACE, "investigator");
    let deployment = rendered.one("Deployment", INVESTIGATOR_NAMESPACE, "investigator");
    assert_eq!(deployment["spec"]["template"]["spec"]["serviceAccountName"], account["metadata"]["name"]);

    for namespace in WORKFLOW_NAMESPACES {
        for role in [WORKFLOWS_ROLE, SECRETS_ROLE] {
            let binding = rendered.one("RoleBinding", namespace, role);
            assert_eq!(
                binding["roleRef"],
                json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role}),
                "{namespace}/{role}"
            );
            assert_eq!(
                binding["subjects"],
                json!([{"kind": "ServiceAccount", "name": "investigator", "namespace": INVESTIGATOR_NAMESPACE}]),
                "{namespace}/{role}: the ServiceAccount, in the namespace the overlay put it in"
            );
        }
    }
}

#[test]
fn config_map_launches_through_kube_into_both_workflow_namespaces() {
    let rendered = Rendered::example();
    let config = rendered.one("ConfigMap", INVESTIGATOR_NAMESPACE, "investigator-config");
    let data = config["data"].as_object().expect("data");
    for (variable, value) in data {
        assert!(value.is_string(), "ConfigMap values are strings; {variable} is {value}");
    }
    let setting = |variable: &str| text(config, &format!("/data/{variable}"));

    assert_eq!(setting("INVESTIGATOR_LAUNCHER"), "kube");
    assert_eq!(setting("THOTH_MIDDLETIER_NAMESPACE"), MIDDLETIER);
    assert_eq!(setting("THOTH_BACKEND_NAMESPACE"), BACKEND);
    assert_eq!(
        setting("INVESTIGATOR_HTTP_ADDR"),
        "0.0.0.0:6066",
        "the probes need all interfaces (127.0.0.1 by default)"
    );
    assert_eq!(setting("THOTH_DEPLOYMENT_NAME"), EXAMPLE_DEPLOYMENT_NAME, "the overlay's deployment name is applied");
    assert_eq!(setting("RUST_LOG"), "info");
    assert!(!setting("KAFKA_BOOTSTRAP_SERVERS").is_empty());
    assert!(!setting("THOTH_SOLVERS").is_empty());
    let limit = setting("ARGO_PENDING_WORKFLOW_LIMIT");
    assert!(limit.parse::<u32>().is_ok_and(|limit| limit > 0), "ARGO_PENDING_WORKFLOW_LIMIT is a count: {limit}");
    for secret in ["DATABASE_URL", "INVESTIGATOR_API_TOKEN"] {
        assert!(!data.contains_key(secret), "{secret} comes from the Secret, not the ConfigMap");
    }

    for template in &WORKFLOW_TEMPLATES {
        assert_eq!(setting(template.name_variable), template.name);
        let namespace = setting(template.namespace_variable);
        assert_eq!(namespace, template.namespace, "{} workflows go to {}", template.name, template.namespace_variable);
        rendered.one("WorkflowTemplate", namespace, setting(template.name_variable));
    }
}

#[test]
fn workflow_templates_declare_thoths_parameters_and_pass_each_to_their_container() {
    let rendered = Rendered::example();
    for expected in &WORKFLOW_TEMPLATES {
        let template = rendered.one("WorkflowTemplate", expected.namespace, expected.name);
        let spec = &template["spec"];
        let context = format!("WorkflowTemplate {}/{}", expected.namespace, expected.name);

        let declared: Vec<&str> =
            array(spec, "/arguments/parameters").iter().map(|parameter| text(parameter, "/name")).collect();
        let declared_set: BTreeSet<&str> = declared.iter().copied().collect();
        assert_eq!(declared_set.len(), declared.len(), "{context}: a parameter is declared twice: {declared:?}");
        let thoths: BTreeSet<&str> = expected.parameters.iter().chain(&CEPH_PARAMETERS).copied().collect();
        assert_eq!(declared_set, thoths, "{context}: Thoth's parameter names (spec/argo-workflows.md §1.2)");

        assert_eq!(spec["serviceAccountName"], "argo", "{context}");
        assert_eq!(spec["activeDeadlineSeconds"], 3000, "{context}");
        assert_eq!(spec["ttlStrategy"]["secondsAfterCompletion"], expected.ttl_seconds, "{context}");
        assert_eq!(
            spec["workflowMetadata"]["labels"],
            json!({"app": "thoth", "component": expected.component}),
            "{context}: Thoth's labels on every workflow"
        );

        let entrypoint = text(spec, "/entrypoint");
        let step = array(spec, "/templates")
            .iter()
            .find(|step| step["name"] == entrypoint)
            .unwrap_or_else(|| panic!("{context}: no template named by the entrypoint {entrypoint}"));
        let container = &step["container"];
        assert_eq!(container["image"], expected.image, "{context}");
        let environment: Vec<&str> = array(container, "/env").iter().map(|variable| text(variable, "/value")).collect();
        for parameter in &declared {
            let reference = format!("{{{{workflow.parameters.{parameter}}}}}");
            assert!(
                environment.iter().any(|value| value.contains(&reference)),
                "{context}: parameter {parameter} reaches the container's environment"
            );
        }
        for referenced in workflow_parameter_references(&spec.to_string()) {
            assert!(declared_set.contains(referenced.as_str()), "{context}: {referenced} is used but not declared");
        }
    }
}

#[test]
fn workflow_templates_run_pinned_images_as_locked_down_non_root_containers() {
    let rendered = Rendered::example();
    for expected in &WORKFLOW_TEMPLATES {
        let template = rendered.one("WorkflowTemplate", expected.namespace, expected.name);
        let context = format!("WorkflowTemplate {}/{}", expected.namespace, expected.name);
        let spec = &template["spec"];
        assert_eq!(
            spec["securityContext"],
            json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}),
            "{context}: every pod of the workflow"
        );
        for step in array(spec, "/templates") {
            let container = &step["container"];
            let image = text(container, "/image");
            let (_, tag) = image.rsplit_once(':').unwrap_or_else(|| panic!("{context}: {image} has no tag"));
            assert!(
                !["latest", "pinned-by-overlay"].contains(&tag) || image.contains("@sha256:"),
                "{context}: {image} is pinned by the overlay"
            );
            assert_eq!(image, expected.image, "{context}: the overlay's `images:` reaches the template");
            let security = &container["securityContext"];
            assert_eq!(security["allowPrivilegeEscalation"], false, "{context}");
            assert_eq!(security["capabilities"], json!({"drop": ["ALL"]}), "{context}");
            assert_eq!(security["readOnlyRootFilesystem"], expected.read_only_root, "{context}");
            assert!(security.get("privileged").is_none_or(|privileged| privileged == false), "{context}");
            if expected.read_only_root {
                let mounts = array(container, "/volumeMounts");
                let tmp = mounts.iter().find(|mount| mount["mountPath"] == "/tmp").expect("a writable /tmp");
                let volume = array(spec, "/volumes").iter().find(|volume| volume["name"] == tmp["name"]).cloned();
                assert!(
                    volume.is_some_and(|volume| volume.get("emptyDir").is_some()),
                    "{context}: /tmp is an emptyDir"
                );
            }
        }
    }
    let yaml = rendered.objects.iter().map(Value::to_string).collect::<String>();
    assert!(!yaml.contains(":latest") && !yaml.contains("pinned-by-overlay"), "no image left unpinned");
}

/// The kustomization fields kustomize v5 deprecates, each with what replaces it (its
/// `api/types/kustomization.go`, whose warnings v5 prints; v4.5.4 reads them silently).
const DEPRECATED_FIELDS: [(&str, &str); 6] = [
    ("bases", "resources"),
    ("commonLabels", "labels"),
    ("imageTags", "images"),
    ("patchesJson6902", "patches"),
    ("patchesStrategicMerge", "patches"),
    ("vars", "replacements"),
];

#[test]
fn no_kustomization_uses_a_deprecated_field_and_each_renders_without_a_warning() {
    let kustomizations = kustomization_directories(&workspace_root().join("ops/deploy"));
    assert!(kustomizations.len() >= 5, "the base, the workflow directories and the overlays: {kustomizations:?}");
    let mut deprecated = Vec::new();
    for directory in kustomizations {
        let file = directory.join("kustomization.yaml");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|error| panic!("read {}: {error}", file.display()));
        let kustomization: Value =
            serde_yaml_ng::from_str(&text).unwrap_or_else(|error| panic!("{} is not YAML: {error}", file.display()));
        for (field, replacement) in DEPRECATED_FIELDS {
            if kustomization.get(field).is_some() {
                deprecated.push(format!("{}: `{field}:` (use `{replacement}:`)", file.display()));
            }
        }

        let output = kustomize_build(&directory);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "kustomize build {} failed ({}):\n{stderr}",
            directory.display(),
            output.status
        );
        assert!(stderr.is_empty(), "kustomize build {} warned:\n{stderr}", directory.display());
    }
    assert!(deprecated.is_empty(), "deprecated kustomization fields:\n{}", deprecated.join("\n"));
}

#[test]
fn a_kustomization_naming_a_missing_resource_fails_to_render() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(directory.path().join("kustomization.yaml"), "resources:\n  - missing-deployment.yaml\n")
        .expect("write the kustomization");

    let output = kustomize_build(directory.path());

    assert!(
        !output.status.success(),
        "kustomize rendered a kustomization whose resource does not exist:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing-deployment.yaml"), "the error names the missing file: {stderr}");
}

/// What `kustomize build` printed, one JSON value per YAML document.
struct Rendered {
    objects: Vec<Value>,
}

impl Rendered {
    fn example() -> Rendered {
        let overlay = workspace_root().join(EXAMPLE_OVERLAY);
        let output = kustomize_build(&overlay);
        assert!(
            output.status.success(),
            "kustomize build {} failed ({}):\n{}",
            overlay.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let yaml = String::from_utf8(output.stdout).expect("kustomize prints UTF-8");
        let objects = serde_yaml_ng::Deserializer::from_str(&yaml)
            .map(|document| {
                Value::deserialize(document)
                    .unwrap_or_else(|error| panic!("kustomize printed YAML that does not parse: {error}\n{yaml}"))
            })
            .filter(|object| !object.is_null())
            .collect();
        Rendered { objects }
    }

    /// The one object of this kind, namespace and name; fails when there are none or several.
    fn one(&self, kind: &str, namespace: &str, name: &str) -> &Value {
        let wanted = (kind.to_owned(), namespace.to_owned(), name.to_owned());
        let matching: Vec<&Value> = self.objects.iter().filter(|object| identity(object) == wanted).collect();
        let [object] = matching[..] else {
            panic!("expected exactly one {kind} {namespace}/{name}, found {}", matching.len())
        };
        object
    }

    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> {
        self.objects.iter().filter(move |object| object["kind"] == kind)
    }
}

/// Runs `kustomize build <directory>` with the kustomize of `INVESTIGATOR_TEST_KUSTOMIZE`; fails
/// the test, saying how to install it, when that is not set.
fn kustomize_build(directory: &Path) -> Output {
    let kustomize = environment::kustomize();
    Command::new(&kustomize)
        .arg("build")
        .arg(directory)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {kustomize} (scripts/kustomize.sh installs it): {error}"))
}

/// Every directory below `root` (itself included) that holds a `kustomization.yaml`.
fn kustomization_directories(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        if directory.join("kustomization.yaml").is_file() {
            found.push(directory.clone());
        }
        let entries =
            std::fs::read_dir(&directory).unwrap_or_else(|error| panic!("read {}: {error}", directory.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            }
        }
    }
    found.sort();
    found
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate is inside the workspace").to_path_buf()
}

/// (kind, namespace, name); the namespace is empty for objects without one.
fn identity(object: &Value) -> (String, String, String) {
    let namespace = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
    (text(object, "/kind").to_owned(), namespace.to_owned(), text(object, "/metadata/name").to_owned())
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("no string at {pointer} in {value:#}"))
}

fn array<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value.pointer(pointer).and_then(Value::as_array).unwrap_or_else(|| panic!("no list at {pointer} in {value:#}"))
}

/// The Deployment's only container.
fn investigator_container(deployment: &Value) -> &Value {
    let containers = array(deployment, "/spec/template/spec/containers");
    let [container] = containers else { panic!("one container: {containers:#?}") };
    container
}

fn named_port(container: &Value, name: &str) -> u64 {
    array(container, "/ports")
        .iter()
        .find(|port| port["name"] == name)
        .and_then(|port| port["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("no container port named {name}"))
}

/// A probe's or a Service's port: a number, or the name of a container port.
fn container_port(container: &Value, port: &Value) -> u64 {
    match port {
        Value::Number(number) => number.as_u64().expect("a port number"),
        Value::String(name) => named_port(container, name),
        other => panic!("not a port: {other}"),
    }
}

/// One RBAC rule, order-insensitive.
#[derive(Debug, PartialEq, Eq)]
struct Rule {
    api_groups: BTreeSet<String>,
    resources: BTreeSet<String>,
    verbs: BTreeSet<String>,
}

impl Rule {
    fn new(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> Rule {
        let set = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect();
        Rule { api_groups: set(api_groups), resources: set(resources), verbs: set(verbs) }
    }
}

/// A Role's rules; fails on any field but apiGroups, resources and verbs (resourceNames,
/// nonResourceURLs), so nothing is granted that the comparison would not see.
fn rules(role: &Value) -> Vec<Rule> {
    let set = |rule: &Value, field: &str| {
        array(rule, &format!("/{field}")).iter().map(|item| text(item, "").to_owned()).collect()
    };
    array(role, "/rules")
        .iter()
        .map(|rule| {
            let fields: BTreeSet<&str> = rule.as_object().expect("a rule").keys().map(String::as_str).collect();
            assert_eq!(fields, BTreeSet::from(["apiGroups", "resources", "verbs"]), "the fields of {rule}");
            Rule { api_groups: set(rule, "apiGroups"), resources: set(rule, "resources"), verbs: set(rule, "verbs") }
        })
        .collect()
}

/// The names in every `{{workflow.parameters.NAME}}` of a text.
fn workflow_parameter_references(text: &str) -> Vec<String> {
    const OPENING: &str = "{{workflow.parameters.";
    text.split(OPENING).skip(1).filter_map(|rest| rest.split_once("}}").map(|(name, _)| name.to_owned())).collect()
}
