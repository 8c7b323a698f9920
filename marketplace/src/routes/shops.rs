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
    let mut v: Vec<&Shop> = s
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
    match q.str("sortBy").unwrap_or("createdAt") {
        "createdAt" => sort(&mut v, desc, |x| x.created_at),
        "name" => sort(&mut v, desc, |x| x.name.to_lowercase()),
        "rating" => sort(&mut v, desc, |x| x.rating),
        "productCount" => sort(&mut v, desc, |x| x.product_count),
        o => return Err(bad("sortBy", format!("unknown sort key '{o}'"))),
    }
    ok(page(v, pg, limit))
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
    Ok(Checked {
        email: b
            .email
            .as_deref()
            .map(|e| validate::email("email", e))
            .transpose()?,
        phone: b
            .phone
            .as_deref()
            .map(|p| validate::phone("phone", p))
            .transpose()?,
        address: b
            .address
            .as_ref()
            .filter(|a| !a.is_null())
            .map(|a| validate::object("address", a))
            .transpose()?,
        description: b.description.as_deref().map(|d| d.trim().to_string()),
    })
}

async fn create(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(b): JsonBody<ShopBody>,
) -> ApiResult {
    if !matches!(u.role, Role::Seller | Role::Admin) {
        return Err(forbidden("only sellers and admins can create shops"));
    }
    if u.role != Role::Admin
        && (b.is_verified.is_some() || b.is_banned.is_some() || b.is_featured.is_some())
    {
        return Err(forbidden(
            "isVerified, isFeatured and isBanned are set by admins",
        ));
    }
    let name = validate::required("name", b.name.as_ref(), 100)?;
    let slug = match &b.slug {
        Some(x) => validate::slug("slug", x)?,
        None => validate::slugify(&name),
    };
    let c = check(&b)?;
    let mut s = st.lock();
    if find(&s.shops, &slug).is_some() {
        return Err(conflict(format!(
            "slug: shop slug '{slug}' is already taken"
        )));
    }
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
    let name = b
        .name
        .as_deref()
        .map(|n| validate::text("name", n, 100))
        .transpose()?;
    let slug = b
        .slug
        .as_deref()
        .map(|x| validate::slug("slug", x))
        .transpose()?;
    let c = check(&b)?;
    let mut s = st.lock();
    let id = lookup(&s.shops, &key, "shop")?.id.clone();
    if !s.owns_shop(&u, &id) {
        return Err(forbidden("only the shop's owner or an admin can update it"));
    }
    if u.role != Role::Admin
        && (b.is_verified.is_some() || b.is_banned.is_some() || b.is_featured.is_some())
    {
        return Err(forbidden(
            "isVerified, isFeatured and isBanned are set by admins",
        ));
    }
    if let Some(sl) = &slug
        && s.shops.iter().any(|x| &x.slug == sl && x.id != id)
    {
        return Err(conflict(format!("slug: shop slug '{sl}' is already taken")));
    }
    let shop = lookup_mut(&mut s.shops, &id, "shop")?;
    if let Some(v) = name {
        shop.name = v;
    }
    if let Some(v) = slug {
        shop.slug = v;
    }
    if let Some(v) = c.description {
        shop.description = v;
    }
    if c.email.is_some() {
        shop.email = c.email;
    }
    if c.phone.is_some() {
        shop.phone = c.phone;
    }
    if c.address.is_some() {
        shop.address = c.address;
    }
    if b.logo.is_some() {
        shop.logo = b.logo;
    }
    if b.banner.is_some() {
        shop.banner = b.banner;
    }
    macro_rules! set { ($($f:ident),*) => { $(if let Some(v) = b.$f { shop.$f = v; })* } }
    set!(show_on_homepage, is_verified, is_featured, is_banned);
    shop.updated_at = Ts::now();
    ok(shop.clone())
}
