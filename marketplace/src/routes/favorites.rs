//! Favorites (wishlist): unique per (user, product); a duplicate is 409.

use super::prelude::*;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/favorites", get(list).post(add))
        .route("/api/favorites/count", get(count))
        .route("/api/favorites/check/{product}", get(check))
        .route("/api/favorites/{id}", axum::routing::delete(remove))
}

fn item(s: &Store, f: &Favorite) -> Value {
    let mut j = json!(f);
    j["product"] = json!(s.products.iter().find(|p| p.id == f.product_id));
    j
}

async fn list(State(st): State<Shared>, Auth(u): Auth) -> ApiResult {
    let s = st.lock();
    let v: Vec<Value> = s
        .favorites
        .iter()
        .filter(|f| f.user_id == u.id)
        .map(|f| item(&s, f))
        .collect();
    ok(v)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddBody {
    #[serde(alias = "product_id")]
    product_id: Option<String>,
}

async fn add(State(st): State<Shared>, Auth(u): Auth, JsonBody(b): JsonBody<AddBody>) -> ApiResult {
    let key = validate::required("productId", b.product_id.as_ref(), 100)?;
    let mut s = st.lock();
    let pid = id_of(&s.products, &key, "productId: product")?;
    if s.favorites
        .iter()
        .any(|f| f.user_id == u.id && f.product_id == pid)
    {
        return Err(conflict(format!(
            "productId: product '{pid}' is already a favorite"
        )));
    }
    let f = Favorite {
        id: s.next_id("fav"),
        user_id: u.id.clone(),
        product_id: pid,
        added_at: Ts::now(),
    };
    s.favorites.push(f.clone());
    created(item(&s, &f))
}

async fn count(State(st): State<Shared>, Auth(u): Auth) -> ApiResult {
    let s = st.lock();
    ok(json!({ "count": s.favorites.iter().filter(|f| f.user_id == u.id).count() }))
}

async fn check(State(st): State<Shared>, Auth(u): Auth, Path(product): Path<String>) -> ApiResult {
    let s = st.lock();
    let pid = id_of(&s.products, &product, "product")?;
    let f = s
        .favorites
        .iter()
        .find(|f| f.user_id == u.id && f.product_id == pid);
    ok(json!({ "isFavorited": f.is_some(), "favoriteId": f.map(|f| f.id.clone()) }))
}

/// Keyed by favorite id; a product id of one of the caller's favorites also works.
async fn remove(State(st): State<Shared>, Auth(u): Auth, Path(id): Path<String>) -> ApiResult {
    let mut s = st.lock();
    let pos = s
        .favorites
        .iter()
        .position(|f| f.user_id == u.id && (f.id == id || f.product_id == id));
    match pos {
        Some(i) => {
            let f = s.favorites.remove(i);
            ok(json!({ "message": "favorite removed", "id": f.id }))
        }
        None => Err(not_found("favorite", &id)),
    }
}
