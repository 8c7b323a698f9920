//! Blog posts: public reads of published posts, admin writes. Status machine:
//! `draft → published → archived`, and `archived → published` to republish.

use super::prelude::*;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/blog", get(list).post(create))
        .route("/api/blog/{key}", get(show).patch(update).delete(remove))
}

fn is_admin(u: &Option<User>) -> bool {
    u.as_ref().is_some_and(|u| u.role == Role::Admin)
}

async fn list(State(st): State<Shared>, MaybeAuth(u): MaybeAuth, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let status: Option<BlogStatus> = q.parse("status")?;
    let featured = q.bool("isFeatured")?;
    let home = q.bool("showOnHomepage")?;
    let desc = q.desc()?;
    let admin = is_admin(&u);
    let s = st.lock();
    let mut v: Vec<&BlogPost> = s
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
    match q.str("sortBy").unwrap_or("createdAt") {
        "createdAt" => sort(&mut v, desc, |p| p.created_at),
        "publishedAt" => sort(&mut v, desc, |p| p.published_at),
        "views" => sort(&mut v, desc, |p| p.views),
        "likes" => sort(&mut v, desc, |p| p.likes),
        "title" => sort(&mut v, desc, |p| p.title.to_lowercase()),
        o => return Err(bad("sortBy", format!("unknown sort key '{o}'"))),
    }
    ok(page(v, pg, limit))
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
    let slug = match &b.slug {
        Some(x) => validate::slug("slug", x)?,
        None => validate::slugify(&title),
    };
    let tags = validate::strings("tags", b.tags.as_deref().unwrap_or(&[]), 50)?;
    let mut s = st.lock();
    if find(&s.blog, &slug).is_some() {
        return Err(conflict(format!(
            "slug: blog slug '{slug}' is already taken"
        )));
    }
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
    let title = b
        .title
        .as_deref()
        .map(|x| validate::text("title", x, 300))
        .transpose()?;
    let content = b
        .content
        .as_deref()
        .map(|x| validate::text("content", x, 200_000))
        .transpose()?;
    let slug = b
        .slug
        .as_deref()
        .map(|x| validate::slug("slug", x))
        .transpose()?;
    let tags = b
        .tags
        .as_deref()
        .map(|t| validate::strings("tags", t, 50))
        .transpose()?;
    let mut s = st.lock();
    let id = lookup(&s.blog, &key, "blog post")?.id.clone();
    if let Some(sl) = &slug
        && s.blog.iter().any(|p| &p.slug == sl && p.id != id)
    {
        return Err(conflict(format!("slug: blog slug '{sl}' is already taken")));
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
            let n = |x: BlogStatus| json!(x).as_str().unwrap_or_default().to_string();
            return Err(bad(
                "status",
                format!("cannot move a post from {} to {}", n(p.status), n(to)),
            ));
        }
        if to == Published && p.published_at.is_none() {
            p.published_at = Some(b.published_at.unwrap_or(now));
        }
        p.status = to;
    }
    if let Some(v) = b.published_at {
        p.published_at = Some(v);
    }
    if let Some(v) = title {
        p.title = v;
    }
    if let Some(v) = content {
        p.content = v;
    }
    if let Some(v) = slug {
        p.slug = v;
    }
    if let Some(v) = tags {
        p.tags = v;
    }
    if b.featured_image.is_some() {
        p.featured_image = b.featured_image;
    }
    macro_rules! set { ($($f:ident),*) => { $(if let Some(v) = b.$f { p.$f = v; })* } }
    set!(excerpt, category, is_featured, show_on_homepage);
    p.updated_at = now;
    ok(p.clone())
}

async fn remove(State(st): State<Shared>, a: Auth, Path(key): Path<String>) -> ApiResult {
    a.admin()?;
    let mut s = st.lock();
    let id = lookup(&s.blog, &key, "blog post")?.id.clone();
    s.blog.retain(|p| p.id != id);
    ok(json!({ "message": "blog post deleted", "id": id }))
}
