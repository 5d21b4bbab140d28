//! Thoth's pagination: `page` (0 first; negative counts from the end) and `per_page` (25, at
//! most 100) in, the headers `page`, `per_page`, `page_count`, `entries_count`, `next` and `prev`
//! out (`next` / `prev` are relative URLs with the same query, or `null`).

use std::future::Future;

use actix_web::{HttpRequest, HttpResponseBuilder};

use super::api_error::ApiError;
use super::parameters::Parameters;

/// One page of rows, and where it lies.
pub struct Page<T> {
    pub rows: Vec<T>,
    page: i64,
    per_page: i64,
    page_count: i64,
    total: i64,
}

/// Fetches the page the parameters ask for; `fetch(offset, limit)` gives rows and the total.
pub async fn paginate<T, F, Fut>(parameters: &Parameters, fetch: F) -> Result<Page<T>, ApiError>
where
    F: Fn(i64, i64) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, i64), tokio_postgres::Error>>,
{
    let (page, per_page) = parameters.page()?;
    let (rows, total, page) = if page >= 0 {
        let (rows, total) = fetch(page * per_page, per_page).await?;
        (rows, total, page)
    } else {
        // A negative page counts from the end: the total comes first.
        let (_, total) = fetch(0, 1).await?;
        let page = (total + per_page - 1) / per_page + page;
        if page < 0 { (Vec::new(), total, page) } else { (fetch(page * per_page, per_page).await?.0, total, page) }
    };
    Ok(Page { rows, page, per_page, page_count: (total + per_page - 1) / per_page, total })
}

impl<T> Page<T> {
    /// Adds the page headers.
    pub fn headers(&self, response: &mut HttpResponseBuilder, request: &HttpRequest, parameters: &Parameters) {
        let link = |target: i64| {
            if target < 0 || target >= self.page_count {
                return "null".to_owned();
            }
            let mut query: Vec<String> = parameters
                .pairs()
                .filter(|(key, _)| *key != "page")
                .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
                .collect();
            query.push(format!("page={target}"));
            format!("{}?{}", request.path(), query.join("&"))
        };
        response
            .insert_header(("page", self.page.to_string()))
            .insert_header(("per_page", self.per_page.to_string()))
            .insert_header(("page_count", self.page_count.to_string()))
            .insert_header(("entries_count", self.total.to_string()))
            .insert_header(("next", link(self.page + 1)))
            .insert_header(("prev", link(self.page - 1)));
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
