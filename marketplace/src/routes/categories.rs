//! Categories (every response is `{success, data}`); the server maintains the tree fields.

use super::prelude::*;
use axum::response::IntoResponse;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/categories", get(list).post(create))
        .route(
            "/api/categories/{key}",
            get(show).patch(update).delete(remove),
        )
}

fn wrap(v: impl serde::Serialize) -> Value {
    json!({ "success": true, "data": v })
}

async fn list(State(st): State<Shared>, q: Params) -> ApiResult {
    let active = q.bool("isActive")?;
    let featured = q.bool("isFeatured")?;
    let home = q.bool("showOnHomepage")?;
    let s = st.lock();
    let mut v: Vec<&Category> = s
        .categories
        .iter()
        .filter(|c| active.is_none_or(|b| c.is_active == b))
        .filter(|c| featured.is_none_or(|b| c.is_featured == b))
        .filter(|c| home.is_none_or(|b| c.show_on_homepage == b))
        .filter(|c| match q.str("parentId") {
            None => true,
            Some("null" | "root") => c.parent_id.is_none(),
            Some(p) => c.parent_id.as_deref() == Some(p),
        })
        .filter(|c| q.str("level").is_none_or(|l| c.level.to_string() == l))
        .filter(|c| {
            q.str("search")
                .is_none_or(|t| contains(&c.name, t) || contains(&c.slug, t))
        })
        .collect();
    v.sort_by(|a, b| (a.level, a.sort_order, &a.name).cmp(&(b.level, b.sort_order, &b.name)));
    ok(wrap(v))
}

async fn show(State(st): State<Shared>, Path(key): Path<String>) -> ApiResult {
    let s = st.lock();
    ok(wrap(lookup(&s.categories, &key, "category")?))
}

/// `parentId` distinguishes "absent" (keep) from `null` (make a root).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CategoryBody {
    name: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    parent_id: Option<Option<String>>,
    parent_ids: Option<Vec<String>>,
    icon: Option<String>,
    image: Option<String>,
    color: Option<String>,
    sort_order: Option<u32>,
    is_featured: Option<bool>,
    show_on_homepage: Option<bool>,
    is_active: Option<bool>,
    meta_title: Option<String>,
    meta_description: Option<String>,
    commission_rate: Option<f64>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl CategoryBody {
    /// The checked `commissionRate` and `sortOrder`, when present.
    fn numbers(&self) -> Result<(Option<f64>, Option<u32>), ApiError> {
        Ok((
            present(self.commission_rate, |r| {
                validate::percent("commissionRate", r)
            })?,
            present(self.sort_order, |n| {
                validate::at_most("sortOrder", n, 1_000_000)
            })?,
        ))
    }

    /// The requested parent: `parentId`, else the first of `parentIds`; `Some(None)` = root.
    fn parent(&self) -> Option<Option<String>> {
        let p = self
            .parent_id
            .clone()
            .or_else(|| self.parent_ids.as_ref().map(|v| v.first().cloned()));
        p.map(|p| p.filter(|x| !x.trim().is_empty()))
    }
}

/// The id of the parent category `key` names, else 404 naming `parentId`.
fn parent_id(s: &Store, key: &str) -> Result<String, ApiError> {
    id_of(&s.categories, key, "parentId: category")
}

async fn create(
    State(st): State<Shared>,
    a: Auth,
    JsonBody(b): JsonBody<CategoryBody>,
) -> ApiResult {
    a.admin()?;
    let name = validate::required("name", b.name.as_ref(), 100)?;
    let slug = slug_or_name(b.slug.as_deref(), &name)?;
    let (rate, sort_order) = b.numbers()?;
    let mut s = st.lock();
    ensure_slug_free(&s.categories, &slug, None, "category")?;
    let parent = present(b.parent().flatten(), |p| parent_id(&s, &p))?;
    let now = Ts::now();
    let id = s.next_id("cat");
    s.categories.push(Category {
        description: b.description.unwrap_or_default(),
        sort_order: sort_order.unwrap_or(0),
        is_featured: b.is_featured.unwrap_or(false),
        show_on_homepage: b.show_on_homepage.unwrap_or(false),
        is_active: b.is_active.unwrap_or(true),
        commission_rate: rate.unwrap_or(0.0),
        icon: b.icon,
        image: b.image,
        color: b.color,
        meta_title: b.meta_title,
        meta_description: b.meta_description,
        ..Category::new(id.clone(), name, slug, parent, now)
    });
    s.rebuild_categories();
    let c = lookup(&s.categories, &id, "category")?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(wrap(c))).into_response())
}

async fn update(
    State(st): State<Shared>,
    a: Auth,
    Path(key): Path<String>,
    JsonBody(b): JsonBody<CategoryBody>,
) -> ApiResult {
    a.admin()?;
    let name = present(b.name.as_deref(), |n| validate::text("name", n, 100))?;
    let slug = present(b.slug.as_deref(), |x| validate::slug("slug", x))?;
    let (rate, sort_order) = b.numbers()?;
    let mut s = st.lock();
    let id = id_of(&s.categories, &key, "category")?;
    if let Some(sl) = &slug {
        ensure_slug_free(&s.categories, sl, Some(&id), "category")?;
    }
    let parent = match b.parent() {
        None => None,
        Some(None) => Some(None),
        Some(Some(p)) => {
            let pid = parent_id(&s, &p)?;
            if s.category_subtree(&id).contains(&pid) {
                return Err(bad(
                    "parentId",
                    "a category cannot move under itself or its descendants",
                ));
            }
            Some(Some(pid))
        }
    };
    let c = lookup_mut(&mut s.categories, &id, "category")?;
    set(&mut c.name, name);
    set(&mut c.slug, slug);
    set(&mut c.parent_id, parent);
    set(&mut c.commission_rate, rate);
    set(&mut c.sort_order, sort_order);
    patch!(c, b: description, is_featured, show_on_homepage, is_active);
    patch_some!(c, b: icon, image, color, meta_title, meta_description);
    c.updated_at = Ts::now();
    s.rebuild_categories();
    ok(wrap(lookup(&s.categories, &id, "category")?))
}

async fn remove(State(st): State<Shared>, a: Auth, Path(key): Path<String>) -> ApiResult {
    a.admin()?;
    let mut s = st.lock();
    let c = lookup(&s.categories, &key, "category")?;
    if c.has_children || c.product_count > 0 {
        return Err(bad(
            "id",
            "a category with children or products cannot be deleted",
        ));
    }
    let id = c.id.clone();
    s.categories.retain(|c| c.id != id);
    s.rebuild_categories();
    ok(json!({ "success": true, "message": "category deleted" }))
}
