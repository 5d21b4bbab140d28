//! Topic names: Thoth puts `{THOTH_DEPLOYMENT_NAME}.` before each base name when the
//! variable is set (even to the empty string, which gives a leading dot), and uses the bare
//! base name when it is not. No schema version goes into a topic name.

use crate::thoth::MessageKind;

/// Kafka's limit on topic name length.
const MAX_TOPIC_NAME_LEN: usize = 249;

/// Turns base names into topic names and back, for one deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicNaming {
    deployment_name: Option<String>,
}

/// A deployment name that cannot prefix Kafka topic names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDeploymentName {
    /// Kafka topic names only allow ASCII letters, digits, `.`, `_` and `-`.
    #[error(
        "deployment name '{name}' has the character {character:?}; topic names allow only ASCII letters, digits, '.', '_' and '-'"
    )]
    Character {
        /// The name as given.
        name: String,
        /// The first character that is not allowed.
        character: char,
    },
    /// The longest base name with this prefix would exceed Kafka's 249 characters.
    #[error("deployment name '{name}' is too long: topic names would exceed {MAX_TOPIC_NAME_LEN} characters")]
    TooLong {
        /// The name as given.
        name: String,
    },
}

impl TopicNaming {
    /// Naming for a deployment; `None` means `THOTH_DEPLOYMENT_NAME` is not set.
    pub fn new(deployment_name: Option<String>) -> Result<Self, InvalidDeploymentName> {
        if let Some(name) = &deployment_name {
            if let Some(character) = name.chars().find(|c| !is_topic_char(*c)) {
                return Err(InvalidDeploymentName::Character { name: name.clone(), character });
            }
            let longest_base = MessageKind::ALL.iter().map(|kind| kind.base_name().len()).max().unwrap_or(0);
            if name.len() + 1 + longest_base > MAX_TOPIC_NAME_LEN {
                return Err(InvalidDeploymentName::TooLong { name: name.clone() });
            }
        }
        Ok(TopicNaming { deployment_name })
    }

    /// The deployment name, if one is set.
    pub fn deployment_name(&self) -> Option<&str> {
        self.deployment_name.as_deref()
    }

    /// The topic of a message kind in this deployment.
    pub fn topic(&self, kind: MessageKind) -> String {
        self.topic_for_base_name(kind.base_name())
    }

    /// The topic for any base name (also ones that are not Thoth message types, such as the
    /// investigator's own topics).
    pub fn topic_for_base_name(&self, base_name: &str) -> String {
        match &self.deployment_name {
            Some(prefix) => format!("{prefix}.{base_name}"),
            None => base_name.to_owned(),
        }
    }

    /// The message kind a topic of this deployment carries, if it is one of Thoth's.
    pub fn kind_of_topic(&self, topic: &str) -> Option<MessageKind> {
        let base_name = match &self.deployment_name {
            Some(prefix) => topic.strip_prefix(prefix.as_str())?.strip_prefix('.')?,
            None => topic,
        };
        MessageKind::from_base_name(base_name)
    }

    /// The names of every Thoth topic of this deployment.
    pub fn topic_names(&self) -> Vec<String> {
        MessageKind::ALL.into_iter().map(|kind| self.topic(kind)).collect()
    }

    /// Every Thoth topic of this deployment, with its kind.
    pub fn all_topics(&self) -> Vec<(MessageKind, String)> {
        MessageKind::ALL.into_iter().map(|kind| (kind, self.topic(kind))).collect()
    }
}

fn is_topic_char(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_joined_with_a_dot() {
        let naming = TopicNaming::new(Some("ocp4-stage".to_owned())).expect("valid name");
        assert_eq!(naming.topic(MessageKind::UnresolvedPackage), "ocp4-stage.thoth.investigator.unresolved-package");
        assert_eq!(
            naming.kind_of_topic("ocp4-stage.thoth.investigator.unresolved-package"),
            Some(MessageKind::UnresolvedPackage)
        );
        assert_eq!(naming.kind_of_topic("thoth.investigator.unresolved-package"), None);
        assert_eq!(naming.kind_of_topic("ocp4-stagethoth.repo-init"), None);
    }

    #[test]
    fn unset_deployment_uses_bare_base_names() {
        let naming = TopicNaming::default();
        assert_eq!(naming.topic(MessageKind::ThothRepoInit), "thoth.repo-init");
        assert_eq!(naming.kind_of_topic("thoth.repo-init"), Some(MessageKind::ThothRepoInit));
    }

    #[test]
    fn empty_deployment_gives_a_leading_dot_as_in_thoth() {
        let naming = TopicNaming::new(Some(String::new())).expect("empty is allowed");
        assert_eq!(naming.topic(MessageKind::ThothRepoInit), ".thoth.repo-init");
        assert_eq!(naming.kind_of_topic(".thoth.repo-init"), Some(MessageKind::ThothRepoInit));
    }

    #[test]
    fn names_kafka_cannot_take_are_refused() {
        assert!(matches!(
            TopicNaming::new(Some("smaug prod".to_owned())),
            Err(InvalidDeploymentName::Character { character: ' ', .. })
        ));
        assert!(matches!(TopicNaming::new(Some("x".repeat(240))), Err(InvalidDeploymentName::TooLong { .. })));
    }
}
