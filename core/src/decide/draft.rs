//! A decision being made: the events so far, and the workflows already asked for in it, so
//! that one message never asks for the same workflow twice.

use std::collections::HashSet;

use investigator_events::domain::{DomainEvent, StreamId, WorkflowKind, WorkflowRequested, WorkflowTarget};
use investigator_events::thoth::{JsonObject, MessageKind};

use super::{Decision, Knowledge, MessageOrigin, PendingWorkflow, WorkflowSecret, workflow_id};

/// A workflow to ask for, apart from its name.
pub(super) struct Workflow {
    /// What runs.
    pub kind: WorkflowKind,
    /// Where it runs.
    pub namespace: String,
    /// What it is about.
    pub target: WorkflowTarget,
    /// `version_source` of the request (unresolved-package solvers only).
    pub version_source: Option<String>,
}

/// One decision in the making.
pub(super) struct DecisionDraft<'a> {
    knowledge: &'a Knowledge,
    origin: &'a MessageOrigin,
    trigger: MessageKind,
    decision: Decision,
    requested_targets: HashSet<PendingWorkflow>,
    requested_ids: HashSet<String>,
}

impl<'a> DecisionDraft<'a> {
    /// An empty decision about a message of kind `trigger` from `origin`.
    pub fn new(knowledge: &'a Knowledge, origin: &'a MessageOrigin, trigger: MessageKind) -> Self {
        DecisionDraft {
            knowledge,
            origin,
            trigger,
            decision: Decision::default(),
            requested_targets: HashSet::new(),
            requested_ids: HashSet::new(),
        }
    }

    /// What the decision reads.
    pub fn knowledge(&self) -> &'a Knowledge {
        self.knowledge
    }

    /// The record being decided about.
    pub fn origin(&self) -> &'a MessageOrigin {
        self.origin
    }

    /// The base name of the message's type (workflows' `trigger`, kebechet's message type).
    pub fn trigger(&self) -> &'static str {
        self.trigger.base_name()
    }

    /// Records why something was not done.
    pub fn skip(&mut self, note: String) {
        self.decision.skipped.push(note);
    }

    /// Appends a knowledge event.
    pub fn event(&mut self, stream: StreamId, event: impl Into<DomainEvent>) {
        self.decision.events.push((stream, event.into()));
    }

    /// Asks for a machine-triggered workflow about `workflow.target`, named from the record
    /// and the target, unless one for the same target is pending (in the graph's knowledge
    /// or earlier in this decision). `parameters` gets the name. Returns the name if asked.
    pub fn request_for_target(
        &mut self,
        prefix: &str,
        workflow: Workflow,
        parameters: impl FnOnce(&str) -> JsonObject,
    ) -> Option<String> {
        let pending = PendingWorkflow::of(workflow.kind, &workflow.target);
        if self.knowledge.is_pending(&pending) || self.requested_targets.contains(&pending) {
            self.skip(format!("{} for {} already pending", workflow.kind, describe(&workflow.target)));
            return None;
        }
        let id = workflow_id::for_target(prefix, self.origin, workflow.kind, &workflow.target);
        let parameters = parameters(&id);
        self.request_named(id.clone(), workflow, parameters).then_some(id)
    }

    /// Asks for a workflow of a given name, unless that name was already asked for. Returns
    /// whether it was asked for.
    pub fn request_named(&mut self, workflow_id: String, workflow: Workflow, parameters: JsonObject) -> bool {
        if self.knowledge.has_workflow(&workflow_id) || self.requested_ids.contains(&workflow_id) {
            self.skip(format!("workflow {workflow_id} already requested"));
            return false;
        }
        self.requested_targets.insert(PendingWorkflow::of(workflow.kind, &workflow.target));
        self.requested_ids.insert(workflow_id.clone());
        let request = WorkflowRequested {
            workflow_id: workflow_id.clone(),
            kind: workflow.kind,
            namespace: workflow.namespace,
            target: workflow.target,
            parameters,
            trigger: Some(self.trigger().to_owned()),
            version_source: workflow.version_source,
        };
        self.decision.events.push((StreamId::workflow(&workflow_id), request.into()));
        true
    }

    /// Credentials for a workflow asked for in this decision.
    pub fn secret(&mut self, secret: WorkflowSecret) {
        debug_assert!(self.requested_ids.contains(&secret.workflow_id), "a secret for a workflow not requested");
        self.decision.secrets.push(secret);
    }

    /// The decision.
    pub fn finish(self) -> Decision {
        self.decision
    }
}

/// `flask 2.0.1 on https://pypi.org/simple with solver-rhel-8-py38`, for notes.
pub(super) fn describe(target: &WorkflowTarget) -> String {
    let mut text = target.package_name.clone().unwrap_or_default();
    if let Some(version) = &target.package_version {
        text.push(' ');
        text.push_str(version);
    }
    if let Some(index) = &target.index_url {
        text.push_str(" on ");
        text.push_str(index);
    }
    if let Some(solver) = &target.solver_name {
        text.push_str(" with ");
        text.push_str(solver);
    }
    text
}
