//! Products: listing with filters and sorting, id-or-slug lookup, seller/admin writes.

use super::prelude::*;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/products", get(list).post(create))
        .route(
            "/api/products/{key}",
            get(show).patch(update).delete(remove),
        )
        .route("/api/products/{key}/similar", get(similar))
}

/// Whether `user` may see a non-published product of `shop_id`.
fn can_see_unpublished(s: &Store, user: Option<&User>, shop_id: &str) -> bool {
    user.is_some_and(|u| s.owns_shop(u, shop_id))
}

async fn list(State(st): State<Shared>, MaybeAuth(u): MaybeAuth, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let status: Option<ProductStatus> = q.parse("status")?;
    let min = q.num("minPrice")?;
    let max = q.num("maxPrice")?;
    let featured = q.bool("isFeatured")?;
    let home = q.bool("showOnHomepage")?;
    let in_stock = q.bool("inStock")?;
    let desc = q.desc()?;
    let s = st.lock();
    let cats = q.str("categoryId").map(|c| match find(&s.categories, c) {
        Some(i) => s.category_subtree(&s.categories[i].id),
        None => vec![],
    });
    let v: Vec<&Product> = s
        .products
        .iter()
        .filter(|p| match status {
            Some(st) => {
                p.status == st
                    && (st == ProductStatus::Published
                        || can_see_unpublished(&s, u.as_ref(), &p.shop_id))
            }
            None => {
                p.status == ProductStatus::Published
                    || can_see_unpublished(&s, u.as_ref(), &p.shop_id)
            }
        })
        .filter(|p| q.str("shopId").is_none_or(|x| p.shop_id == x))
        .filter(|p| cats.as_ref().is_none_or(|c| c.contains(&p.category_id)))
        .filter(|p| min.is_none_or(|m| p.price >= m) && max.is_none_or(|m| p.price <= m))
        .filter(|p| featured.is_none_or(|b| p.is_featured == b))
        .filter(|p| home.is_none_or(|b| p.show_on_homepage == b))
        .filter(|p| in_stock.is_none_or(|b| (p.stock_count > 0) == b))
        .filter(|p| q.str("condition").is_none_or(|c| p.condition == c))
        .filter(|p| {
            q.str("search").is_none_or(|t| {
                contains(&p.name, t)
                    || contains(&p.description, t)
                    || p.brand.as_deref().is_some_and(|b| contains(b, t))
                    || p.tags.iter().any(|g| contains(g, t))
            })
        })
        .collect();
    ok(Sorted::new(v, q.str("sortBy"), desc)
        .by("createdAt", |p| p.created_at)
        .by("updatedAt", |p| p.updated_at)
        .by("price", |p| p.price)
        .by("rating", |p| p.rating)
        .by("sales|salesCount", |p| p.sales_count)
        .by("views|viewCount", |p| p.view_count)
        .by("name", |p| p.name.to_lowercase())
        .page(pg, limit)?)
}

async fn show(
    State(st): State<Shared>,
    MaybeAuth(u): MaybeAuth,
    Path(key): Path<String>,
) -> ApiResult {
    let mut s = st.lock();
    let p = lookup(&s.products, &key, "product")?;
    if p.status != ProductStatus::Published
        && p.status != ProductStatus::OutOfStock
        && !can_see_unpublished(&s, u.as_ref(), &p.shop_id)
    {
        return Err(not_found("product", &key));
    }
    let p = lookup_mut(&mut s.products, &key, "product")?;
    p.view_count += 1;
    ok(p.clone())
}

async fn similar(State(st): State<Shared>, Path(key): Path<String>, q: Params) -> ApiResult {
    let limit = q.int("limit", 1, 100)?.unwrap_or(8) as usize;
    let s = st.lock();
    let p = lookup(&s.products, &key, "product")?;
    let mut v: Vec<&Product> = s
        .products
        .iter()
        .filter(|o| {
            o.id != p.id && o.category_id == p.category_id && o.status == ProductStatus::Published
        })
        .collect();
    sort(&mut v, true, |o| o.rating);
    v.truncate(limit);
    ok(json!({ "data": v }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductBody {
    shop_id: Option<String>,
    category_id: Option<String>,
    name: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    price: Option<f64>,
    original_price: Option<f64>,
    stock_count: Option<u32>,
    low_stock_threshold: Option<u32>,
    sku: Option<String>,
    condition: Option<String>,
    brand: Option<String>,
    country_of_origin: Option<String>,
    images: Option<Vec<String>>,
    variants: Option<Vec<Variant>>,
    specifications: Option<Vec<Spec>>,
    dimensions: Option<Dimensions>,
    shipping_class: Option<String>,
    tags: Option<Vec<String>>,
    is_returnable: Option<bool>,
    return_window_days: Option<u32>,
    warranty: Option<Value>,
    meta_title: Option<String>,
    meta_description: Option<String>,
    status: Option<ProductStatus>,
    is_featured: Option<bool>,
    show_on_homepage: Option<bool>,
}

/// Field checks shared by create and update (everything but ids, name and slug).
fn check(b: &mut ProductBody) -> Result<(), ApiError> {
    if let Some(v) = b.price {
        b.price = Some(validate::money("price", v)?);
    }
    if let Some(v) = b.original_price {
        b.original_price = Some(validate::money("originalPrice", v)?);
    }
    if let Some(v) = b.stock_count {
        validate::at_most("stockCount", v, validate::MAX_STOCK)?;
    }
    if let Some(v) = b.low_stock_threshold {
        validate::at_most("lowStockThreshold", v, validate::MAX_STOCK)?;
    }
    if let Some(v) = b.return_window_days {
        validate::at_most("returnWindowDays", v, 365)?;
    }
    if let Some(c) = &b.condition
        && !matches!(c.as_str(), "new" | "used" | "refurbished")
    {
        return Err(bad("condition", "must be new, used or refurbished"));
    }
    if let Some(v) = &b.images {
        validate::strings("images", v, 50)?;
    }
    if let Some(v) = &b.tags {
        validate::strings("tags", v, 50)?;
    }
    if let Some(vs) = &b.variants {
        if vs.len() > 100 {
            return Err(bad("variants", "must have at most 100 items"));
        }
        for (i, v) in vs.iter().enumerate() {
            validate::text(&format!("variants[{i}].name"), &v.name, 100)?;
            if let Some(p) = v.price {
                validate::money(&format!("variants[{i}].price"), p)?;
            }
            if let Some(n) = v.stock {
                validate::at_most(&format!("variants[{i}].stock"), n, validate::MAX_STOCK)?;
            }
        }
    }
    if let Some(vs) = &b.specifications {
        for (i, v) in vs.iter().enumerate() {
            validate::text(&format!("specifications[{i}].name"), &v.name, 200)?;
        }
    }
    if let Some(d) = &b.dimensions {
        for (k, v) in [
            ("length", d.length),
            ("width", d.width),
            ("height", d.height),
            ("weight", d.weight),
        ] {
            if let Some(v) = v
                && (!v.is_finite() || !(0.0..=1_000_000.0).contains(&v))
            {
                return Err(bad(
                    &format!("dimensions.{k}"),
                    "must be a number from 0 to 1000000",
                ));
            }
        }
    }
    if let Some(w) = b.warranty.as_ref().filter(|d| !d.is_null()) {
        validate::string_or_object("warranty", w)?;
    }
    Ok(())
}

/// The id and shop of product `key`, else 404; 403 unless `u` may `act` on it (its shop's
/// owner or an admin).
fn owned(s: &Store, u: &User, key: &str, act: &str) -> Result<(String, String), ApiError> {
    let p = lookup(&s.products, key, "product")?;
    s.ensure_owner(
        u,
        &p.shop_id,
        &format!("only the shop's owner or an admin can {act} this product"),
    )?;
    Ok((p.id.clone(), p.shop_id.clone()))
}

fn category_id(s: &Store, key: &str) -> Result<String, ApiError> {
    id_of(&s.categories, key, "categoryId: category")
}

async fn create(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(mut b): JsonBody<ProductBody>,
) -> ApiResult {
    ensure(u.sells(), "only sellers and admins can create products")?;
    check(&mut b)?;
    let name = validate::required("name", b.name.as_ref(), 200)?;
    let slug = slug_or_name(b.slug.as_deref(), &name)?;
    let shop_key = validate::required("shopId", b.shop_id.as_ref(), 100)?;
    let cat_key = validate::required("categoryId", b.category_id.as_ref(), 100)?;
    let price = b.price.ok_or_else(|| bad("price", "is required"))?;
    let mut s = st.lock();
    let shop_id = id_of(&s.shops, &shop_key, "shopId: shop")?;
    s.ensure_owner(
        &u,
        &shop_id,
        "sellers can only add products to their own shop",
    )?;
    let category_id = category_id(&s, &cat_key)?;
    ensure_slug_free(&s.products, &slug, None, "product")?;
    let now = Ts::now();
    let p = Product {
        id: s.next_id("prod"),
        shop_id,
        category_id,
        name,
        slug,
        description: b.description.unwrap_or_default(),
        price,
        original_price: b.original_price,
        stock_count: b.stock_count.unwrap_or(0),
        low_stock_threshold: b.low_stock_threshold.unwrap_or(5),
        sku: b.sku,
        condition: b.condition.unwrap_or_else(|| "new".into()),
        brand: b.brand,
        country_of_origin: b.country_of_origin,
        images: b.images.unwrap_or_default(),
        variants: b.variants.unwrap_or_default(),
        specifications: b.specifications.unwrap_or_default(),
        dimensions: b.dimensions,
        shipping_class: b.shipping_class,
        tags: b.tags.unwrap_or_default(),
        is_returnable: b.is_returnable.unwrap_or(true),
        return_window_days: b.return_window_days.unwrap_or(7),
        warranty: b.warranty.filter(|d| !d.is_null()),
        meta_title: b.meta_title,
        meta_description: b.meta_description,
        rating: 0.0,
        review_count: 0,
        sales_count: 0,
        view_count: 0,
        status: b.status.unwrap_or(ProductStatus::Draft),
        is_featured: b.is_featured.unwrap_or(false),
        show_on_homepage: b.show_on_homepage.unwrap_or(false),
        created_at: now,
        updated_at: now,
    };
    s.products.push(p.clone());
    s.rebuild_categories();
    s.recount_shops();
    created(p)
}

async fn update(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(key): Path<String>,
    JsonBody(mut b): JsonBody<ProductBody>,
) -> ApiResult {
    check(&mut b)?;
    let name = present(b.name.as_deref(), |n| validate::text("name", n, 200))?;
    let slug = present(b.slug.as_deref(), |x| validate::slug("slug", x))?;
    let mut s = st.lock();
    let (id, shop_id) = owned(&s, &u, &key, "update")?;
    if let Some(x) = &b.shop_id
        && find(&s.shops, x).map(|i| &s.shops[i].id) != Some(&shop_id)
    {
        return Err(bad("shopId", "a product cannot move to another shop"));
    }
    let category = present(b.category_id.as_deref(), |c| category_id(&s, c))?;
    if let Some(sl) = &slug {
        ensure_slug_free(&s.products, sl, Some(&id), "product")?;
    }
    let p = lookup_mut(&mut s.products, &id, "product")?;
    set(&mut p.name, name);
    set(&mut p.slug, slug);
    set(&mut p.category_id, category);
    set_some(&mut p.warranty, b.warranty.filter(|d| !d.is_null()));
    patch_some!(p, b: original_price, dimensions);
    patch!(
        p,
        b: description,
        price,
        stock_count,
        low_stock_threshold,
        condition,
        images,
        variants,
        specifications,
        tags,
        is_returnable,
        return_window_days,
        status,
        is_featured,
        show_on_homepage
    );
    patch_some!(
        p,
        b: sku,
        brand,
        country_of_origin,
        shipping_class,
        meta_title,
        meta_description
    );
    // Restocking an automatically sold-out product puts it back on sale.
    if b.status.is_none() && p.status == ProductStatus::OutOfStock && p.stock_count > 0 {
        p.status = ProductStatus::Published;
    }
    p.updated_at = Ts::now();
    let out = p.clone();
    s.rebuild_categories();
    ok(out)
}

async fn remove(State(st): State<Shared>, Auth(u): Auth, Path(key): Path<String>) -> ApiResult {
    let mut s = st.lock();
    let (id, _) = owned(&s, &u, &key, "delete")?;
    s.products.retain(|p| p.id != id);
    s.favorites.retain(|f| f.product_id != id);
    s.rebuild_categories();
    s.recount_shops();
    deleted("product", &id)
}
