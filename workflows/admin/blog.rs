//! 18 `admin-blog`: an admin writes a blog post as a draft, checks its content, adds an
//! image, publishes and features it, edits it, archives it and deletes it again.
//!
//! Decisions:
//! - The seed's 13 steps (its file header claimed 14; its class ran 13), plus the deferred
//!   cleanup step.
//! - Title and slug carry a unique suffix, so parallel and repeated runs never collide.
//! - Every write is checked to have stored what it sent; step 10 finds the post by searching
//!   its unique title; step 12 checks the featured and homepage lists only hold published
//!   posts with the flag — and no longer this run's post, which step 11 archived.
//! - Step 13 deletes the post and checks it is gone (the seed swallowed errors). A deferred
//!   step (`cx.defer`), "Cleanup: Delete Leftover Post", runs once the workflow ends however
//!   it ends: it deletes the post if an earlier end left it, and checks it is gone.

use workflow_harness::prelude::*;

use crate::checks::{delete_if_left, expect_listed, expect_some_each, patch_stored};
use crate::common::*;

workflow! {
    id: "admin-blog",
    name: "Admin Blog Management",
    tags: ["admin", "blog"],
    steps: 14,
    run: admin_blog,
}

const TAGS: [&str; 3] = ["test", "automation", "workflow"];

async fn admin_blog(cx: &mut Ctx) -> StepResult {
    as_seeded(cx, ADMIN_ID)?;
    blog_steps(cx).await
}

async fn blog_steps(cx: &mut Ctx) -> StepResult {
    let tag = unique("");
    let title = format!("Test Blog Post {tag}");
    let slug = format!("test-blog-post-{tag}");

    cx.step("Navigate to Blog Management", async |cx| {
        let list = cx.get_value("/api/blog?limit=5").await?;
        ensure!(list.data()?.len() <= 5, "the limit was not applied");
        list.at("pagination")?;
        Ok(())
    })
    .await?;

    let id: String = cx
        .step("Create New Blog Post", async |cx| {
            let body = json!({
                "title": title,
                "slug": slug,
                "excerpt": "A short summary of the automated test post.",
                "content": "# Automated test post\n\nThis post is written by the admin blog \
                            workflow. It has a heading, a paragraph and a list:\n\n\
                            - drafts\n- publishing\n- archiving",
                "category": "Technology",
                "tags": TAGS,
                "status": "draft",
                "isFeatured": false,
                "showOnHomepage": false,
            });
            let post = cx.post_value("/api/blog", &body).await?;
            let id = post.id()?;
            // Step 13 deletes it; if the workflow ends before (a failure, a panic, a timeout)
            // this deferred step does, so no post is left behind.
            let path = format!("/api/blog/{id}");
            cx.defer("Cleanup: Delete Leftover Post", async move |cx| {
                delete_if_left(cx, &path).await
            });
            expect_subset(&post, &body)?;
            Ok(id)
        })
        .await?;
    let path = format!("/api/blog/{id}");

    cx.step("Verify Content Structure", async |cx| {
        let post = cx.get_value(&path).await?;
        expect_json!(post, { "title": title })?;
        ensure!(
            post.str_at("content")?.chars().count() > 100,
            "the content should be longer than 100 characters"
        );
        ensure!(!post.str_at("excerpt")?.is_empty(), "the excerpt is empty");
        Ok(())
    })
    .await?;

    cx.step("Verify Category and Tags", async |cx| {
        let post = cx.get_value(&path).await?;
        Ok(expect_json!(post, { "category": "Technology", "tags": TAGS })?)
    })
    .await?;

    let image = format!("https://example.test/blog/{tag}.jpg");
    cx.step("Set SEO Meta Data", async |cx| {
        patch_stored(cx, &path, json!({ "featuredImage": image })).await?;
        Ok(())
    })
    .await?;

    cx.step("Verify Draft Status", async |cx| {
        let post = cx.get_value(&path).await?;
        // `null` also matches a missing key: a draft has no publication date.
        Ok(expect_json!(post, { "status": "draft", "publishedAt": null })?)
    })
    .await?;

    cx.step("Publish Blog Post", async |cx| {
        let body = json!({ "status": "published", "publishedAt": iso_in_days(0) });
        patch_stored(cx, &path, body).await?;
        Ok(())
    })
    .await?;

    cx.step("Feature on Homepage", async |cx| {
        let body = json!({ "isFeatured": true, "showOnHomepage": true });
        patch_stored(cx, &path, body).await?;
        Ok(())
    })
    .await?;

    cx.step("Update Published Post", async |cx| {
        let mut tags: Vec<&str> = TAGS.to_vec();
        tags.push("updated");
        let body =
            json!({ "excerpt": "An updated summary of the automated test post.", "tags": tags });
        let post = patch_stored(cx, &path, body).await?;
        Ok(expect_json!(post, { "status": "published" })?)
    })
    .await?;

    cx.step("View All Blog Posts", async |cx| {
        let list = cx.get_value("/api/blog?limit=20").await?;
        ensure!(list.data()?.len() <= 20, "the limit was not applied");
        let found = cx
            .get_value(&format!("/api/blog?search={tag}&limit=20"))
            .await?;
        expect_listed(&found, &id).with_context(|| format!("searching for {title:?}"))
    })
    .await?;

    cx.step("Archive Old Post", async |cx| {
        patch_stored(cx, &path, json!({ "status": "archived" })).await?;
        Ok(())
    })
    .await?;

    cx.step("View Blog Statistics", async |cx| {
        cx.get_value("/api/blog?limit=100").await?.data()?;
        for (query, flag) in [
            ("isFeatured=true&status=published&limit=100", "isFeatured"),
            (
                "showOnHomepage=true&status=published&limit=20",
                "showOnHomepage",
            ),
        ] {
            let list = cx.get_value(&format!("/api/blog?{query}")).await?;
            expect_some_each(list.data()?, &json!({ flag: true, "status": "published" }))?;
            ensure!(
                !list.ids_at("data")?.contains(&id),
                "the archived post {id} is still listed as {flag}"
            );
        }
        Ok(())
    })
    .await?;

    cx.step("Cleanup Test Posts", async |cx| {
        cx.delete(&path).await?.expect_success()?;
        cx.get(&path).await?.expect_status(404)?;
        Ok(())
    })
    .await
}
