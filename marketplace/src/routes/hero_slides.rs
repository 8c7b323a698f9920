//! Homepage hero slides (admin only): `{slides}` / `{slide}` envelopes, reorder.

use super::prelude::*;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/admin/hero-slides", get(list).post(create))
        .route("/api/admin/hero-slides/reorder", post(reorder))
        .route(
            "/api/admin/hero-slides/{id}",
            get(show).patch(update).delete(remove),
        )
}

async fn list(State(st): State<Shared>, a: Auth, q: Params) -> ApiResult {
    a.admin()?;
    let active = q.bool("isActive")?;
    let s = st.lock();
    let mut v: Vec<&HeroSlide> = s
        .slides
        .iter()
        .filter(|x| active.is_none_or(|b| x.is_active == b))
        .filter(|x| q.str("search").is_none_or(|t| contains(&x.title, t)))
        .collect();
    sort(&mut v, false, |x| x.order);
    ok(json!({ "slides": v }))
}

async fn show(State(st): State<Shared>, a: Auth, Path(id): Path<String>) -> ApiResult {
    a.admin()?;
    let s = st.lock();
    ok(json!({ "slide": lookup(&s.slides, &id, "hero slide")? }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SlideBody {
    title: Option<String>,
    subtitle: Option<String>,
    description: Option<String>,
    image: Option<String>,
    mobile_image: Option<String>,
    cta_text: Option<String>,
    cta_link: Option<String>,
    cta_target: Option<String>,
    order: Option<u32>,
    is_active: Option<bool>,
    start_date: Option<Ts>,
    end_date: Option<Ts>,
    background_color: Option<String>,
    text_color: Option<String>,
}

fn check(b: &SlideBody) -> Result<(), ApiError> {
    if let Some(o) = b.order {
        validate::at_most("order", o, 100_000)?;
    }
    if let Some(t) = &b.cta_target
        && !matches!(t.as_str(), "_self" | "_blank")
    {
        return Err(bad("ctaTarget", "must be _self or _blank"));
    }
    Ok(())
}

fn check_window(x: &HeroSlide) -> Result<(), ApiError> {
    match (x.start_date, x.end_date) {
        (Some(s), Some(e)) if e <= s => Err(bad("endDate", "must be after startDate")),
        _ => Ok(()),
    }
}

async fn create(State(st): State<Shared>, a: Auth, JsonBody(b): JsonBody<SlideBody>) -> ApiResult {
    a.admin()?;
    check(&b)?;
    let title = validate::required("title", b.title.as_ref(), 200)?;
    let image = validate::required("image", b.image.as_ref(), 2000)?;
    let mut s = st.lock();
    let now = Ts::now();
    let next_order = s.slides.iter().map(|x| x.order + 1).max().unwrap_or(1);
    let x = HeroSlide {
        id: s.next_id("slide"),
        title,
        subtitle: b.subtitle,
        description: b.description,
        image,
        mobile_image: b.mobile_image,
        cta_text: b.cta_text.unwrap_or_else(|| "Shop Now".into()),
        cta_link: b.cta_link.unwrap_or_else(|| "/".into()),
        cta_target: b.cta_target.unwrap_or_else(|| "_self".into()),
        order: b.order.unwrap_or(next_order),
        is_active: b.is_active.unwrap_or(false),
        start_date: b.start_date,
        end_date: b.end_date,
        background_color: b.background_color,
        text_color: b.text_color,
        created_at: now,
        updated_at: now,
    };
    check_window(&x)?;
    s.slides.push(x.clone());
    created(json!({ "slide": x }))
}

async fn update(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<SlideBody>,
) -> ApiResult {
    a.admin()?;
    check(&b)?;
    let title = present(b.title.as_deref(), |x| validate::text("title", x, 200))?;
    let image = present(b.image.as_deref(), |x| validate::text("image", x, 2000))?;
    let mut s = st.lock();
    let x = lookup_mut(&mut s.slides, &id, "hero slide")?;
    let mut n = x.clone();
    set(&mut n.title, title);
    set(&mut n.image, image);
    patch!(n, b: cta_text, cta_link, cta_target, order, is_active);
    patch_some!(
        n,
        b: subtitle,
        description,
        mobile_image,
        start_date,
        end_date,
        background_color,
        text_color
    );
    check_window(&n)?;
    n.updated_at = Ts::now();
    *x = n.clone();
    ok(json!({ "slide": n }))
}

async fn remove(State(st): State<Shared>, a: Auth, Path(id): Path<String>) -> ApiResult {
    a.admin()?;
    let mut s = st.lock();
    let id = id_of(&s.slides, &id, "hero slide")?;
    s.slides.retain(|x| x.id != id);
    deleted("hero slide", &id)
}

#[derive(Deserialize)]
struct ReorderBody {
    slides: Option<Vec<ReorderItem>>,
}

#[derive(Deserialize)]
struct ReorderItem {
    id: String,
    #[serde(alias = "position")]
    order: u32,
}

async fn reorder(
    State(st): State<Shared>,
    a: Auth,
    JsonBody(b): JsonBody<ReorderBody>,
) -> ApiResult {
    a.admin()?;
    let items = b.slides.ok_or_else(|| bad("slides", "is required"))?;
    for (i, it) in items.iter().enumerate() {
        validate::at_most(&format!("slides[{i}].order"), it.order, 100_000)?;
    }
    let mut s = st.lock();
    for it in &items {
        lookup(&s.slides, &it.id, "hero slide")?;
    }
    let now = Ts::now();
    for it in &items {
        let x = lookup_mut(&mut s.slides, &it.id, "hero slide")?;
        x.order = it.order;
        x.updated_at = now;
    }
    let mut v: Vec<&HeroSlide> = s.slides.iter().collect();
    sort(&mut v, false, |x| x.order);
    ok(json!({ "message": "slides reordered", "slides": v }))
}
