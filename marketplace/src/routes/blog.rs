//! Blog posts: public reads of published posts, admin writes. Status machine:
//! `draft → published → archived`, and `archived → published` to republish.

use super::prelude::*;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/blog", get(list).post(create))
        .route("/api/blog/{key}", get(show).patch(update).delete(remove))
}

fn is_admin(u: &Option<User>) -> bool {
    u.as_ref().is_some_and(User::is_admin)
}

async fn list(State(st): State<Shared>, MaybeAuth(u): MaybeAuth, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let status: Option<BlogStatus> = q.parse("status")?;
    let featured = q.bool("isFeatured")?;
    let home = q.bool("showOnHomepage")?;
    let desc = q.desc()?;
    let admin = is_admin(&u);
    let s = st.lock();
    let v: Vec<&BlogPost> = s
        .blog
        .iter()
        .filter(|p| admin || p.status == BlogStatus::Published)
        .filter(|p| status.is_none_or(|x| p.status == x))
        .filter(|p| featured.is_none_or(|x| p.is_featured == x))
        .filter(|p| home.is_none_or(|x| p.show_on_homepage == x))
        .filter(|p| {
            q.str("category")
                .is_none_or(|x| p.category.eq_ignore_ascii_case(x))
        })
        .filter(|p| {
            q.str("tag")
                .is_none_or(|x| p.tags.iter().any(|t| t.eq_ignore_ascii_case(x)))
        })
        .filter(|p| q.str("author").is_none_or(|x| p.author.id == x))
        .filter(|p| {
            q.str("search")
                .is_none_or(|t| contains(&p.title, t) || contains(&p.excerpt, t))
        })
        .collect();
    ok(Sorted::new(v, q.str("sortBy"), desc)
        .by("createdAt", |p| p.created_at)
        .by("publishedAt", |p| p.published_at)
        .by("views", |p| p.views)
        .by("likes", |p| p.likes)
        .by("title", |p| p.title.to_lowercase())
        .page(pg, limit)?)
}

async fn show(
    State(st): State<Shared>,
    MaybeAuth(u): MaybeAuth,
    Path(key): Path<String>,
) -> ApiResult {
    let admin = is_admin(&u);
    let mut s = st.lock();
    let p = lookup_mut(&mut s.blog, &key, "blog post")?;
    if !admin && p.status != BlogStatus::Published {
        return Err(not_found("blog post", &key));
    }
    p.views += 1;
    ok(p.clone())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostBody {
    title: Option<String>,
    slug: Option<String>,
    excerpt: Option<String>,
    content: Option<String>,
    featured_image: Option<String>,
    category: Option<String>,
    tags: Option<Vec<String>>,
    status: Option<BlogStatus>,
    is_featured: Option<bool>,
    show_on_homepage: Option<bool>,
    published_at: Option<Ts>,
}

async fn create(State(st): State<Shared>, a: Auth, JsonBody(b): JsonBody<PostBody>) -> ApiResult {
    a.admin()?;
    let title = validate::required("title", b.title.as_ref(), 300)?;
    let content = validate::required("content", b.content.as_ref(), 200_000)?;
    let slug = slug_or_name(b.slug.as_deref(), &title)?;
    let tags = validate::strings("tags", b.tags.as_deref().unwrap_or(&[]), 50)?;
    let mut s = st.lock();
    ensure_slug_free(&s.blog, &slug, None, "blog")?;
    let now = Ts::now();
    let status = b.status.unwrap_or(BlogStatus::Draft);
    let p = BlogPost {
        id: s.next_id("blog"),
        title,
        slug,
        excerpt: b
            .excerpt
            .unwrap_or_else(|| content.chars().take(160).collect()),
        content,
        featured_image: b.featured_image,
        author: Author {
            id: a.0.id.clone(),
            name: a.0.name.clone(),
            avatar: a.0.avatar.clone(),
        },
        category: b.category.unwrap_or_else(|| "General".into()),
        tags,
        status,
        is_featured: b.is_featured.unwrap_or(false),
        show_on_homepage: b.show_on_homepage.unwrap_or(false),
        published_at: if status == BlogStatus::Published {
            Some(b.published_at.unwrap_or(now))
        } else {
            None
        },
        views: 0,
        likes: 0,
        created_at: now,
        updated_at: now,
    };
    s.blog.push(p.clone());
    created(p)
}

async fn update(
    State(st): State<Shared>,
    a: Auth,
    Path(key): Path<String>,
    JsonBody(b): JsonBody<PostBody>,
) -> ApiResult {
    a.admin()?;
    let title = present(b.title.as_deref(), |x| validate::text("title", x, 300))?;
    let content = present(b.content.as_deref(), |x| {
        validate::text("content", x, 200_000)
    })?;
    let slug = present(b.slug.as_deref(), |x| validate::slug("slug", x))?;
    let tags = present(b.tags.as_deref(), |t| validate::strings("tags", t, 50))?;
    let mut s = st.lock();
    let id = id_of(&s.blog, &key, "blog post")?;
    if let Some(sl) = &slug {
        ensure_slug_free(&s.blog, sl, Some(&id), "blog")?;
    }
    let p = lookup_mut(&mut s.blog, &id, "blog post")?;
    let now = Ts::now();
    if let Some(to) = b.status {
        use BlogStatus::*;
        let allowed = p.status == to
            || matches!(
                (p.status, to),
                (Draft, Published | Archived) | (Published, Archived) | (Archived, Published)
            );
        if !allowed {
            return Err(bad_transition("a post", p.status, to));
        }
        if to == Published && p.published_at.is_none() {
            p.published_at = Some(b.published_at.unwrap_or(now));
        }
        p.status = to;
    }
    set_some(&mut p.published_at, b.published_at);
    set(&mut p.title, title);
    set(&mut p.content, content);
    set(&mut p.slug, slug);
    set(&mut p.tags, tags);
    patch_some!(p, b: featured_image);
    patch!(p, b: excerpt, category, is_featured, show_on_homepage);
    p.updated_at = now;
    ok(p.clone())
}

async fn remove(State(st): State<Shared>, a: Auth, Path(key): Path<String>) -> ApiResult {
    a.admin()?;
    let mut s = st.lock();
    let id = id_of(&s.blog, &key, "blog post")?;
    s.blog.retain(|p| p.id != id);
    deleted("blog post", &id)
}
