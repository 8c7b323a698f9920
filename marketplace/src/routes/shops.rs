//! Shops: listing, id-or-slug lookup, creation by sellers, updates by owners and admins.

use super::prelude::*;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/shops", get(list).post(create))
        .route("/api/shops/{key}", get(show).patch(update))
}

async fn list(State(st): State<Shared>, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let verified = q.bool("verified")?.or(q.bool("isVerified")?);
    let featured = q.bool("featured")?.or(q.bool("isFeatured")?);
    let home = q.bool("showOnHomepage")?;
    let desc = q.desc()?;
    let s = st.lock();
    let v: Vec<&Shop> = s
        .shops
        .iter()
        .filter(|x| !x.is_banned)
        .filter(|x| verified.is_none_or(|b| x.is_verified == b))
        .filter(|x| featured.is_none_or(|b| x.is_featured == b))
        .filter(|x| home.is_none_or(|b| x.show_on_homepage == b))
        .filter(|x| q.str("ownerId").is_none_or(|o| x.owner_id == o))
        .filter(|x| {
            q.str("search")
                .is_none_or(|t| contains(&x.name, t) || contains(&x.description, t))
        })
        .collect();
    ok(Sorted::new(v, q.str("sortBy"), desc)
        .by("createdAt", |x| x.created_at)
        .by("name", |x| x.name.to_lowercase())
        .by("rating", |x| x.rating)
        .by("productCount", |x| x.product_count)
        .page(pg, limit)?)
}

async fn show(State(st): State<Shared>, Path(key): Path<String>) -> ApiResult {
    let s = st.lock();
    ok(lookup(&s.shops, &key, "shop")?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopBody {
    name: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<Value>,
    logo: Option<String>,
    banner: Option<String>,
    show_on_homepage: Option<bool>,
    is_verified: Option<bool>,
    is_featured: Option<bool>,
    is_banned: Option<bool>,
}

struct Checked {
    email: Option<String>,
    phone: Option<String>,
    address: Option<Value>,
    description: Option<String>,
}

fn check(b: &ShopBody) -> Result<Checked, ApiError> {
    let address = b.address.as_ref().filter(|a| !a.is_null());
    Ok(Checked {
        email: present(b.email.as_deref(), |e| validate::email("email", e))?,
        phone: present(b.phone.as_deref(), |p| validate::phone("phone", p))?,
        address: present(address, |a| validate::object("address", a))?,
        description: b.description.as_deref().map(|d| d.trim().to_string()),
    })
}

/// 403 unless `u` is an admin or the body leaves the admin-only flags alone.
fn check_flags(u: &User, b: &ShopBody) -> Result<(), ApiError> {
    let flags = b.is_verified.is_some() || b.is_banned.is_some() || b.is_featured.is_some();
    ensure(
        u.is_admin() || !flags,
        "isVerified, isFeatured and isBanned are set by admins",
    )
}

async fn create(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(b): JsonBody<ShopBody>,
) -> ApiResult {
    ensure(u.sells(), "only sellers and admins can create shops")?;
    check_flags(&u, &b)?;
    let name = validate::required("name", b.name.as_ref(), 100)?;
    let slug = slug_or_name(b.slug.as_deref(), &name)?;
    let c = check(&b)?;
    let mut s = st.lock();
    ensure_slug_free(&s.shops, &slug, None, "shop")?;
    let now = Ts::now();
    let shop = Shop {
        id: s.next_id("shop"),
        owner_id: u.id.clone(),
        name,
        slug,
        description: c.description.unwrap_or_default(),
        email: c.email,
        phone: c.phone,
        address: c.address,
        logo: b.logo,
        banner: b.banner,
        rating: 0.0,
        review_count: 0,
        product_count: 0,
        is_verified: b.is_verified.unwrap_or(false),
        is_featured: b.is_featured.unwrap_or(false),
        show_on_homepage: b.show_on_homepage.unwrap_or(false),
        is_banned: b.is_banned.unwrap_or(false),
        created_at: now,
        updated_at: now,
    };
    s.shops.push(shop.clone());
    created(shop)
}

async fn update(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(key): Path<String>,
    JsonBody(b): JsonBody<ShopBody>,
) -> ApiResult {
    let name = present(b.name.as_deref(), |n| validate::text("name", n, 100))?;
    let slug = present(b.slug.as_deref(), |x| validate::slug("slug", x))?;
    let c = check(&b)?;
    let mut s = st.lock();
    let id = id_of(&s.shops, &key, "shop")?;
    s.ensure_owner(&u, &id, "only the shop's owner or an admin can update it")?;
    check_flags(&u, &b)?;
    if let Some(sl) = &slug {
        ensure_slug_free(&s.shops, sl, Some(&id), "shop")?;
    }
    let shop = lookup_mut(&mut s.shops, &id, "shop")?;
    set(&mut shop.name, name);
    set(&mut shop.slug, slug);
    patch!(shop, c: description);
    patch_some!(shop, c: email, phone, address);
    patch_some!(shop, b: logo, banner);
    patch!(shop, b: show_on_homepage, is_verified, is_featured, is_banned);
    shop.updated_at = Ts::now();
    ok(shop.clone())
}
