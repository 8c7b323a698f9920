//! 18 `admin-blog`: an admin writes a blog post as a draft, checks its content, adds an
//! image, publishes and features it, edits it, archives it and deletes it again.
//!
//! Decisions:
//! - 13 steps (the seed's file header claimed 14; its class ran 13).
//! - Title and slug carry a unique suffix, so parallel and repeated runs never collide.
//! - Every write is checked to have stored what it sent; step 10 finds the post by searching
//!   its unique title; step 12 checks the featured and homepage lists only hold published
//!   posts with the flag — and no longer this run's post, which step 11 archived.
//! - Step 13 deletes the post and checks it is gone (the seed swallowed errors). If an
//!   earlier step fails, the post is still deleted (best effort) after the workflow stops.

use workflow_harness::prelude::*;

use crate::checks::{expect_bool, expect_str, ids};
use crate::common::*;

workflow! {
    id: "admin-blog",
    name: "Admin Blog Management",
    tags: ["admin", "blog"],
    steps: 13,
    run: admin_blog,
}

const TAGS: [&str; 3] = ["test", "automation", "workflow"];

async fn admin_blog(cx: &mut Ctx) -> StepResult {
    as_seeded(cx, ADMIN_ID)?;
    let mut created = None;
    let result = blog_steps(cx, &mut created).await;
    if let (Err(_), Some(id)) = (&result, created) {
        // Best effort: the workflow already failed; do not leave the post behind.
        let _ = cx.delete(&format!("/api/blog/{id}")).await;
    }
    result
}

async fn blog_steps(cx: &mut Ctx, created: &mut Option<String>) -> StepResult {
    let tag = unique("");
    let title = format!("Test Blog Post {tag}");
    let slug = format!("test-blog-post-{tag}");

    cx.step("Navigate to Blog Management", async |cx| {
        let list: Value = cx.get_json("/api/blog?limit=5").await?;
        ensure!(list.data()?.len() <= 5, "the limit was not applied");
        list.at("pagination")?;
        Ok(())
    })
    .await?;

    let id: String = cx
        .step("Create New Blog Post", async |cx| {
            let post: Value = cx
                .post_json(
                    "/api/blog",
                    &json!({
                        "title": title,
                        "slug": slug,
                        "excerpt": "A short summary of the automated test post.",
                        "content": "# Automated test post\n\nThis post is written by the admin \
                                    blog workflow. It has a heading, a paragraph and a list:\n\n\
                                    - drafts\n- publishing\n- archiving\n",
                        "category": "Technology",
                        "tags": TAGS,
                        "status": "draft",
                        "isFeatured": false,
                        "showOnHomepage": false,
                    }),
                )
                .await?;
            let id = post.id()?;
            *created = Some(id.clone());
            expect_str(&post, "slug", &slug)?;
            Ok(id)
        })
        .await?;
    let path = format!("/api/blog/{id}");

    cx.step("Verify Content Structure", async |cx| {
        let post: Value = cx.get_json(&path).await?;
        expect_str(&post, "title", &title)?;
        ensure!(
            post.str_at("content")?.chars().count() > 100,
            "the content should be longer than 100 characters"
        );
        ensure!(!post.str_at("excerpt")?.is_empty(), "the excerpt is empty");
        Ok(())
    })
    .await?;

    cx.step("Verify Category and Tags", async |cx| {
        let post: Value = cx.get_json(&path).await?;
        expect_str(&post, "category", "Technology")?;
        ensure!(
            post["tags"] == json!(TAGS),
            "the tags were not stored: {}",
            short(&post)
        );
        Ok(())
    })
    .await?;

    let image = format!("https://example.test/blog/{tag}.jpg");
    cx.step("Set SEO Meta Data", async |cx| {
        let post: Value = cx
            .patch_json(&path, &json!({ "featuredImage": image }))
            .await?;
        expect_str(&post, "featuredImage", &image)
    })
    .await?;

    cx.step("Verify Draft Status", async |cx| {
        let post: Value = cx.get_json(&path).await?;
        expect_str(&post, "status", "draft")?;
        ensure!(
            post["publishedAt"].is_null(),
            "a draft has a publication date: {}",
            short(&post)
        );
        Ok(())
    })
    .await?;

    cx.step("Publish Blog Post", async |cx| {
        let post: Value = cx
            .patch_json(
                &path,
                &json!({ "status": "published", "publishedAt": iso_in_days(0) }),
            )
            .await?;
        expect_str(&post, "status", "published")?;
        post.str_at("publishedAt")?;
        Ok(())
    })
    .await?;

    cx.step("Feature on Homepage", async |cx| {
        let post: Value = cx
            .patch_json(
                &path,
                &json!({ "isFeatured": true, "showOnHomepage": true }),
            )
            .await?;
        expect_bool(&post, "isFeatured", true)?;
        expect_bool(&post, "showOnHomepage", true)
    })
    .await?;

    cx.step("Update Published Post", async |cx| {
        let excerpt = "An updated summary of the automated test post.";
        let mut tags: Vec<&str> = TAGS.to_vec();
        tags.push("updated");
        let post: Value = cx
            .patch_json(&path, &json!({ "excerpt": excerpt, "tags": tags }))
            .await?;
        expect_str(&post, "excerpt", excerpt)?;
        ensure!(
            post["tags"] == json!(tags),
            "the tags were not updated: {}",
            short(&post)
        );
        expect_str(&post, "status", "published")
    })
    .await?;

    cx.step("View All Blog Posts", async |cx| {
        let list: Value = cx.get_json("/api/blog?limit=20").await?;
        ensure!(list.data()?.len() <= 20, "the limit was not applied");
        let found: Value = cx
            .get_json(&format!("/api/blog?search={tag}&limit=20"))
            .await?;
        ensure!(
            ids(&found)?.contains(&id),
            "searching for {title:?} does not find {id}"
        );
        Ok(())
    })
    .await?;

    cx.step("Archive Old Post", async |cx| {
        let post: Value = cx
            .patch_json(&path, &json!({ "status": "archived" }))
            .await?;
        expect_str(&post, "status", "archived")
    })
    .await?;

    cx.step("View Blog Statistics", async |cx| {
        let all: Value = cx.get_json("/api/blog?limit=100").await?;
        all.data()?;
        let featured: Value = cx
            .get_json("/api/blog?isFeatured=true&status=published&limit=100")
            .await?;
        let homepage: Value = cx
            .get_json("/api/blog?showOnHomepage=true&status=published&limit=20")
            .await?;
        for (list, flag) in [(&featured, "isFeatured"), (&homepage, "showOnHomepage")] {
            let posts = list.data()?;
            ensure!(
                posts
                    .iter()
                    .all(|p| p[flag] == true && p["status"] == "published"),
                "the {flag} list holds posts without the flag or unpublished: {}",
                short(list)
            );
            ensure!(
                !ids(list)?.contains(&id),
                "the archived post {id} is still listed as {flag}"
            );
        }
        Ok(())
    })
    .await?;

    cx.step("Cleanup Test Posts", async |cx| {
        cx.delete(&path).await?.expect_success()?;
        *created = None;
        cx.get(&path).await?.expect_status(404)?;
        Ok(())
    })
    .await
}
