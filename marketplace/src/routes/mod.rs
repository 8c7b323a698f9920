//! The HTTP surface: one module per resource, merged under `/api`.

/// `patch!(dst, body: a, b)`: `dst.a = body.a` for each named field the body carries
/// ([`patch::set`]).
macro_rules! patch {
    ($dst:ident, $src:ident: $($f:ident),+ $(,)?) => {
        $( crate::routes::patch::set(&mut $dst.$f, $src.$f); )+
    };
}

/// `patch_some!(dst, body: a, b)`: the same for optional fields ([`patch::set_some`]).
macro_rules! patch_some {
    ($dst:ident, $src:ident: $($f:ident),+ $(,)?) => {
        $( crate::routes::patch::set_some(&mut $dst.$f, $src.$f); )+
    };
}

mod analytics;
mod auctions;
mod blog;
mod cart;
mod categories;
mod coupons;
mod favorites;
mod hero_slides;
mod orders;
mod patch;
mod products;
mod returns;
mod reviews;
mod shops;
mod support;
mod users;

use crate::error::ApiError;
use crate::state::Shared;
use axum::Router;
use axum::routing::get;

/// What every route module needs.
mod prelude {
    pub(crate) use crate::error::{
        ApiError, ApiResult, bad, bad_transition, conflict, created, deleted, ensure, forbidden,
        not_found, ok,
    };
    pub(crate) use crate::extract::{Auth, Empty, JsonBody, MaybeAuth, Params, Path};
    pub(crate) use crate::listing::{Sorted, contains, page, sort};
    pub(crate) use crate::models::*;
    pub(crate) use crate::routes::patch::{set, set_some};
    pub(crate) use crate::state::Shared;
    pub(crate) use crate::store::{
        Store, ensure_slug_free, find, get as lookup, get_allowed, get_mut as lookup_mut, id_of,
        index,
    };
    pub(crate) use crate::time::Ts;
    pub(crate) use crate::validate;
    pub(crate) use crate::validate::{present, slug_or_name};
    pub(crate) use axum::Router;
    pub(crate) use axum::extract::State;
    pub(crate) use axum::routing::{get, post};
    pub(crate) use serde::Deserialize;
    pub(crate) use serde_json::{Value, json};
}

/// Every route, plus JSON 404/405 fallbacks.
pub fn router(st: Shared) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .merge(users::routes())
        .merge(shops::routes())
        .merge(categories::routes())
        .merge(products::routes())
        .merge(cart::routes())
        .merge(orders::routes())
        .merge(coupons::routes())
        .merge(auctions::routes())
        .merge(support::routes())
        .merge(reviews::routes())
        .merge(favorites::routes())
        .merge(analytics::routes())
        .merge(returns::routes())
        .merge(blog::routes())
        .merge(hero_slides::routes())
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::BadRequest("method not allowed on this route".into()).with_405()
        })
        .with_state(st)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

impl ApiError {
    fn with_405(self) -> axum::response::Response {
        use axum::response::IntoResponse;
        let mut r = self.into_response();
        *r.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
        r
    }
}
