//! What the releases and updates drivers share about asking indexes: the endpoint of a
//! graph index, the listings of many projects with the configured concurrency, and the
//! error counter.

use futures_util::StreamExt;
use futures_util::stream;
use investigator_core::learning::Driver;
use investigator_projections::learning::LearningIndex;

use super::LearningContext;
use crate::package_index::{IndexEndpoint, IndexError, ProjectListing};

/// Where to ask about `index`.
pub(super) fn endpoint(index: &LearningIndex) -> IndexEndpoint {
    IndexEndpoint {
        url: index.url.clone(),
        warehouse_api_url: index.warehouse_api_url.clone(),
        verify_ssl: index.verify_ssl,
    }
}

/// Each name's listing, asked with the configured concurrency, in the order of `names`.
pub(super) async fn projects(
    context: &LearningContext,
    endpoint: &IndexEndpoint,
    names: Vec<String>,
) -> Vec<(String, Result<ProjectListing, IndexError>)> {
    let concurrency = context.settings.index_concurrency.max(1);
    stream::iter(names)
        .map(|name| async move {
            let listing = context.index.project(endpoint, &name).await;
            (name, listing)
        })
        .buffered(concurrency)
        .collect()
        .await
}

pub(super) fn count_error(context: &LearningContext, driver: Driver, code: &str) {
    if let Some(metrics) = &context.metrics {
        metrics.learning_index_errors.with_label_values(&[driver.name(), code]).inc();
    }
}
