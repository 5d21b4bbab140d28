//! The stored workflows and Secrets, the global resource version and the bounded history of
//! workflow changes that watches replay; which namespaces exist, and whether Argo's Workflow
//! resource (its CRD) is installed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{API_VERSION, KIND, Resource, SECRETS, WORKFLOWS};

/// What a change did to an object, named as a watch event names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    /// The watch event `type`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

/// One change, at the resource version it produced.
#[derive(Debug, PartialEq)]
pub(crate) struct Change {
    pub(crate) revision: u64,
    pub(crate) kind: ChangeKind,
    /// The object after the change; for a deletion, the last state with the deletion's version.
    pub(crate) object: Value,
}

/// Where an object lives: `(namespace, name)`, ordered as etcd orders its keys.
pub(crate) type Key = (String, String);

/// A watch asked to start before the oldest change still kept.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Expired {
    /// The resource version the watch asked for.
    pub(crate) requested: u64,
    /// The oldest resource version a watch may still start from.
    pub(crate) oldest: u64,
}

/// Every stored workflow and what happened to them, and every stored Secret.
#[derive(Debug)]
pub(crate) struct Store {
    objects: BTreeMap<Key, Value>,
    /// Secrets: no history, so that no watch or list of workflows ever sees them.
    secrets: BTreeMap<Key, Value>,
    created_secrets: Vec<Key>,
    revision: u64,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    /// A watch from a resource version at or after this one misses nothing still kept.
    oldest_watchable: u64,
    created: Vec<Key>,
    /// Namespaces deleted by the test; every other namespace exists.
    missing_namespaces: BTreeSet<String>,
    /// Whether Argo's Workflow CRD is installed (the workflow endpoints served).
    workflows_served: bool,
}

impl Store {
    /// An empty store that keeps the last `history_limit` changes for watches.
    pub(crate) fn new(history_limit: usize) -> Self {
        let revision = 1;
        Store {
            objects: BTreeMap::new(),
            secrets: BTreeMap::new(),
            created_secrets: Vec::new(),
            revision,
            history: VecDeque::new(),
            history_limit,
            oldest_watchable: revision,
            created: Vec::new(),
            missing_namespaces: BTreeSet::new(),
            workflows_served: true,
        }
    }

    /// The current (latest) resource version.
    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    /// The object stored under `key`.
    pub(crate) fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Whether an object is stored under `key`.
    pub(crate) fn contains(&self, key: &Key) -> bool {
        self.objects.contains_key(key)
    }

    /// The stored objects in key order, starting after `after` when given.
    pub(crate) fn objects_after(&self, after: Option<&Key>) -> impl Iterator<Item = (&Key, &Value)> {
        let start = match after {
            Some(key) => Bound::Excluded(key.clone()),
            None => Bound::Unbounded,
        };
        self.objects.range((start, Bound::Unbounded))
    }

    /// Stores a new object under `key`, with the fields the API server owns filled in, and
    /// returns the stored object; `None` when the name is taken.
    pub(crate) fn insert(&mut self, key: Key, object: Value) -> Option<Value> {
        if self.objects.contains_key(&key) {
            return None;
        }
        let revision = self.next_revision();
        let stored = stamp(&WORKFLOWS, object, &key, Some(revision));
        self.objects.insert(key, stored.clone());
        self.record(ChangeKind::Added, stored.clone());
        Some(stored)
    }

    /// Remembers that `key` was created through the API.
    pub(crate) fn record_created(&mut self, key: Key) {
        self.created.push(key);
    }

    /// Every create made through the API, in order.
    pub(crate) fn created(&self) -> &[Key] {
        &self.created
    }

    /// The Secret stored under `key`.
    pub(crate) fn secret(&self, key: &Key) -> Option<&Value> {
        self.secrets.get(key)
    }

    /// Whether a Secret is stored under `key`.
    pub(crate) fn contains_secret(&self, key: &Key) -> bool {
        self.secrets.contains_key(key)
    }

    /// Stores a new Secret under `key` at the next resource version (one counter for every
    /// resource, as etcd's), with the fields the API server owns filled in, records the create
    /// and returns the stored object; `None` when the name is taken.
    pub(crate) fn insert_secret(&mut self, key: Key, object: Value) -> Option<Value> {
        if self.secrets.contains_key(&key) {
            return None;
        }
        let revision = self.next_revision();
        let stored = stamp(&SECRETS, object, &key, Some(revision));
        self.secrets.insert(key.clone(), stored.clone());
        self.created_secrets.push(key);
        Some(stored)
    }

    /// Every Secret created through the API, in order.
    pub(crate) fn created_secrets(&self) -> &[Key] {
        &self.created_secrets
    }

    /// Changes the Secret under `key` with `change`, keeps its identity (name, namespace, uid,
    /// creation time), bumps its resource version and returns it; `None` when there is none.
    pub(crate) fn patch_secret(&mut self, key: &Key, change: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut secret = self.secrets.get(key)?.clone();
        let identity = secret.get("metadata").cloned();
        change(&mut secret);
        let revision = self.next_revision();
        if let (Some(Value::Object(metadata)), Some(Value::Object(identity))) = (secret.get_mut("metadata"), identity) {
            for field in ["name", "namespace", "uid", "creationTimestamp"] {
                if let Some(value) = identity.get(field) {
                    metadata.insert(field.to_owned(), value.clone());
                }
            }
        }
        set_resource_version(&mut secret, revision);
        self.secrets.insert(key.clone(), secret.clone());
        Some(secret)
    }

    /// What Kubernetes' garbage collector does once an owner is gone: deletes the Secrets of
    /// `namespace` that name the object `uid` among their `ownerReferences`.
    fn collect_secrets_owned_by(&mut self, namespace: &str, uid: &str) {
        self.secrets.retain(|(secret_namespace, _), secret| {
            let owned = secret["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|owners| owners.iter().any(|owner| owner["uid"] == uid));
            secret_namespace != namespace || !owned
        });
    }

    /// Changes the object under `key` with `change`, keeps its identity, bumps its resource
    /// version and returns it; `None` when there is no such object.
    pub(crate) fn modify(&mut self, key: &Key, change: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut object = self.objects.get(key)?.clone();
        let identity = object.get("metadata").cloned();
        change(&mut object);
        let revision = self.next_revision();
        restore_identity(&mut object, identity, revision);
        self.objects.insert(key.clone(), object.clone());
        self.record(ChangeKind::Modified, object.clone());
        Some(object)
    }

    /// Removes the object under `key` and returns its last state; `None` when there is none.
    pub(crate) fn delete(&mut self, key: &Key) -> Option<Value> {
        let mut object = self.objects.remove(key)?;
        let revision = self.next_revision();
        set_resource_version(&mut object, revision);
        self.record(ChangeKind::Deleted, object.clone());
        if let Some(uid) = object["metadata"]["uid"].as_str() {
            self.collect_secrets_owned_by(&key.0, uid);
        }
        Some(object)
    }

    /// Whether `namespace` exists.
    pub(crate) fn namespace_exists(&self, namespace: &str) -> bool {
        !self.missing_namespaces.contains(namespace)
    }

    /// Deletes `namespace` with everything in it: each workflow at a resource version of its
    /// own (a `DELETED` change), and its Secrets. Returns how many workflows went.
    pub(crate) fn delete_namespace(&mut self, namespace: &str) -> usize {
        let keys: Vec<Key> = self.objects.keys().filter(|(ns, _)| ns == namespace).cloned().collect();
        for key in &keys {
            self.delete(key);
        }
        self.secrets.retain(|(ns, _), _| ns != namespace);
        self.missing_namespaces.insert(namespace.to_owned());
        keys.len()
    }

    /// Creates `namespace` (again), empty.
    pub(crate) fn create_namespace(&mut self, namespace: &str) {
        self.missing_namespaces.remove(namespace);
    }

    /// Whether Argo's Workflow CRD is installed.
    pub(crate) fn workflows_served(&self) -> bool {
        self.workflows_served
    }

    /// Uninstalls Argo's Workflow CRD: every workflow is deleted first (a `DELETED` change
    /// each), as the API server does before it removes a CRD. Returns how many went.
    pub(crate) fn uninstall_workflows(&mut self) -> usize {
        let keys: Vec<Key> = self.objects.keys().cloned().collect();
        for key in &keys {
            self.delete(key);
        }
        self.workflows_served = false;
        keys.len()
    }

    /// Installs Argo's Workflow CRD (again), with no workflows.
    pub(crate) fn install_workflows(&mut self) {
        self.workflows_served = true;
    }

    /// The kept changes after resource version `after`, oldest first.
    pub(crate) fn changes_after(&self, after: u64) -> Result<Vec<Arc<Change>>, Expired> {
        if after < self.oldest_watchable {
            return Err(Expired { requested: after, oldest: self.oldest_watchable });
        }
        let first = self.history.partition_point(|change| change.revision <= after);
        Ok(self.history.range(first..).cloned().collect())
    }

    /// Forgets every kept change, so that a watch from any earlier resource version expires.
    pub(crate) fn compact(&mut self) {
        self.history.clear();
        self.oldest_watchable = self.revision;
    }

    fn next_revision(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    fn record(&mut self, kind: ChangeKind, object: Value) {
        debug_assert!(self.history.back().is_none_or(|last| last.revision < self.revision));
        self.history.push_back(Arc::new(Change { revision: self.revision, kind, object }));
        while self.history.len() > self.history_limit {
            if let Some(forgotten) = self.history.pop_front() {
                self.oldest_watchable = forgotten.revision;
            }
        }
    }
}

/// `object` as the API server stores it under `key` as a `resource`: type, name, namespace, uid,
/// creation time, generation (where the resource keeps one) and, unless this is a dry run, its
/// resource version.
pub(crate) fn stamp(resource: &Resource, object: Value, key: &Key, revision: Option<u64>) -> Value {
    let mut object = match object {
        Value::Object(fields) => fields,
        _ => Map::new(),
    };
    object.insert("apiVersion".to_owned(), json!(resource.api_version));
    object.insert("kind".to_owned(), json!(resource.kind));
    let metadata = object.entry("metadata").or_insert_with(|| json!({}));
    if !metadata.is_object() {
        *metadata = json!({});
    }
    if let Value::Object(metadata) = metadata {
        let (namespace, name) = key;
        metadata.insert("name".to_owned(), json!(name));
        metadata.insert("namespace".to_owned(), json!(namespace));
        metadata.insert("uid".to_owned(), json!(uuid::Uuid::new_v4().to_string()));
        metadata.insert("creationTimestamp".to_owned(), json!(now()));
        if resource.generation {
            metadata.insert("generation".to_owned(), json!(1));
        } else {
            metadata.remove("generation");
        }
        metadata.remove("resourceVersion");
        if let Some(revision) = revision {
            metadata.insert("resourceVersion".to_owned(), json!(revision.to_string()));
        }
    }
    Value::Object(object)
}

/// The current time as Kubernetes writes timestamps.
pub(crate) fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Puts back the metadata a caller may not change (name, namespace, uid, creation time) and sets
/// the new resource version.
fn restore_identity(object: &mut Value, identity: Option<Value>, revision: u64) {
    if !object.is_object() {
        *object = json!({});
    }
    if let Value::Object(fields) = object {
        fields.insert("apiVersion".to_owned(), json!(API_VERSION));
        fields.insert("kind".to_owned(), json!(KIND));
        let metadata = fields.entry("metadata").or_insert_with(|| json!({}));
        if !metadata.is_object() {
            *metadata = json!({});
        }
        if let (Value::Object(metadata), Some(Value::Object(identity))) = (metadata, identity) {
            for field in ["name", "namespace", "uid", "creationTimestamp", "generation"] {
                if let Some(value) = identity.get(field) {
                    metadata.insert(field.to_owned(), value.clone());
                }
            }
        }
    }
    set_resource_version(object, revision);
}

fn set_resource_version(object: &mut Value, revision: u64) {
    if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
        metadata.insert("resourceVersion".to_owned(), json!(revision.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Key {
        ("ns".to_owned(), name.to_owned())
    }

    #[test]
    fn fake_kube_store_assigns_increasing_resource_versions_and_refuses_a_taken_name() {
        let mut store = Store::new(10);
        let first = store.insert(key("a"), json!({"spec": {}})).expect("a is free");
        let second = store.insert(key("b"), json!({"metadata": {"labels": {"x": "1"}}})).expect("b is free");
        assert_eq!(first["metadata"]["resourceVersion"], "2");
        assert_eq!(second["metadata"]["resourceVersion"], "3");
        assert_eq!(second["metadata"]["labels"]["x"], "1");
        assert_eq!(first["metadata"]["namespace"], "ns");
        assert_ne!(first["metadata"]["uid"], second["metadata"]["uid"]);
        assert!(store.insert(key("a"), json!({})).is_none());
        assert_eq!(store.revision(), 3);
    }

    #[test]
    fn fake_kube_store_keeps_identity_on_modify_and_versions_the_deletion() {
        let mut store = Store::new(10);
        let created = store.insert(key("a"), json!({})).expect("free");
        let modified = store
            .modify(&key("a"), |object| {
                object["metadata"]["name"] = json!("renamed");
                object["status"] = json!({"phase": "Running"});
            })
            .expect("exists");
        assert_eq!(modified["metadata"]["name"], "a");
        assert_eq!(modified["metadata"]["uid"], created["metadata"]["uid"]);
        assert_eq!(modified["metadata"]["resourceVersion"], "3");
        let deleted = store.delete(&key("a")).expect("exists");
        assert_eq!(deleted["metadata"]["resourceVersion"], "4");
        let kinds: Vec<_> = store.changes_after(1).expect("kept").iter().map(|change| change.kind).collect();
        assert_eq!(kinds, [ChangeKind::Added, ChangeKind::Modified, ChangeKind::Deleted]);
        assert!(store.modify(&key("a"), |_| {}).is_none());
    }

    #[test]
    fn fake_kube_store_secrets_share_the_version_counter_but_not_the_history() {
        let mut store = Store::new(10);
        store.insert(key("wf"), json!({})).expect("free");
        let secret = store.insert_secret(key("s"), json!({"type": "Opaque"})).expect("free");
        assert_eq!(secret["metadata"]["resourceVersion"], "3");
        assert_eq!((secret["apiVersion"].as_str(), secret["kind"].as_str()), (Some("v1"), Some("Secret")));
        assert!(secret["metadata"].get("generation").is_none(), "{secret}");
        assert!(store.insert_secret(key("s"), json!({})).is_none());
        assert_eq!(store.revision(), 3);
        assert_eq!(store.changes_after(1).expect("kept").len(), 1, "only the workflow's change");
        assert_eq!(store.objects_after(None).count(), 1);
        assert!(store.get(&key("s")).is_none() && store.secret(&key("wf")).is_none());
        assert_eq!(store.created_secrets(), [key("s")]);
    }

    #[test]
    fn fake_kube_store_deleting_a_namespace_deletes_what_it_holds_and_only_that() {
        let mut store = Store::new(10);
        store.insert(key("a"), json!({})).expect("free");
        store.insert(("other".to_owned(), "b".to_owned()), json!({})).expect("free");
        store.insert_secret(key("s"), json!({})).expect("free");
        assert_eq!(store.delete_namespace("ns"), 1);
        assert!(!store.namespace_exists("ns") && store.namespace_exists("other"));
        assert!(store.get(&key("a")).is_none() && store.secret(&key("s")).is_none());
        assert_eq!(store.objects_after(None).count(), 1);
        let last = store.changes_after(3).expect("kept");
        assert_eq!(last.iter().map(|change| change.kind).collect::<Vec<_>>(), [ChangeKind::Deleted]);
        store.create_namespace("ns");
        assert!(store.namespace_exists("ns"));
    }

    #[test]
    fn fake_kube_store_uninstalling_the_crd_deletes_every_workflow_first() {
        let mut store = Store::new(10);
        store.insert(key("a"), json!({})).expect("free");
        store.insert(("other".to_owned(), "b".to_owned()), json!({})).expect("free");
        assert_eq!(store.uninstall_workflows(), 2);
        assert!(!store.workflows_served());
        assert_eq!(store.objects_after(None).count(), 0);
        let deleted = store.changes_after(3).expect("kept");
        assert!(deleted.iter().all(|change| change.kind == ChangeKind::Deleted) && deleted.len() == 2);
        store.install_workflows();
        assert!(store.workflows_served());
    }

    #[test]
    fn fake_kube_store_history_is_bounded_and_compaction_expires_old_versions() {
        let mut store = Store::new(2);
        for name in ["a", "b", "c"] {
            store.insert(key(name), json!({}));
        }
        assert_eq!(store.changes_after(1), Err(Expired { requested: 1, oldest: 2 }));
        assert_eq!(store.changes_after(2).expect("kept").len(), 2);
        store.compact();
        assert_eq!(store.changes_after(3), Err(Expired { requested: 3, oldest: 4 }));
        assert!(store.changes_after(4).expect("nothing missed").is_empty());
    }
}
