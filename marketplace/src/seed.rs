//! Deterministic seed data: the same seed gives the same data (timestamps are relative to
//! the server's start). Fixed ids for everything the workflows and tests refer to.

use crate::models::*;
use crate::store::Store;
use crate::time::Ts;
use serde_json::json;

/// The seeded users: (id, role, bearer token).
pub const SEEDED_USERS: &[(&str, &str, &str)] = &[
    ("test-customer-001", "customer", "token-test-customer-001"),
    ("test-customer-002", "customer", "token-test-customer-002"),
    ("test-bidder-001", "bidder", "token-test-bidder-001"),
    ("test-seller-001", "seller", "token-test-seller-001"),
    ("test-seller-002", "seller", "token-test-seller-002"),
    ("test-admin-001", "admin", "token-test-admin-001"),
];

/// The fixed bearer token of a seeded user (`token-<id>`).
pub fn token_of(user_id: &str) -> String {
    format!("token-{user_id}")
}

const MUMBAI: (&str, &str, &str, &str, &str) = (
    "123 Test Street",
    "Apt 4B",
    "Mumbai",
    "Maharashtra",
    "400001",
);

fn addr(name: &str) -> PostalAddress {
    PostalAddress {
        name: name.into(),
        phone: "+919876543210".into(),
        line1: MUMBAI.0.into(),
        line2: Some(MUMBAI.1.into()),
        city: MUMBAI.2.into(),
        state: MUMBAI.3.into(),
        pincode: MUMBAI.4.into(),
        country: "India".into(),
    }
}

/// Builds the seeded store.
pub fn seed(seed: u64, now: Ts) -> Store {
    let mut s = Store::empty(seed);
    users(&mut s, now);
    shops(&mut s, now);
    categories(&mut s, now);
    products(&mut s, now);
    orders(&mut s, now);
    coupons(&mut s, now);
    auctions(&mut s, now);
    returns(&mut s, now);
    tickets(&mut s, now);
    reviews(&mut s, now);
    blog(&mut s, now);
    slides(&mut s, now);
    s.rebuild_categories();
    s.recount_shops();
    s
}

fn users(s: &mut Store, now: Ts) {
    let names = [
        "Test Customer",
        "Second Customer",
        "Test Bidder",
        "Test Seller",
        "Second Seller",
        "Test Admin",
    ];
    for (&(id, role, token), name) in SEEDED_USERS.iter().zip(names) {
        let role: Role = serde_json::from_value(json!(role)).unwrap_or(Role::Customer);
        s.users.push(User {
            id: id.into(),
            email: format!("{id}@example.test"),
            name: name.into(),
            role,
            phone: Some("+919876543210".into()),
            avatar: None,
            email_verified: true,
            phone_verified: false,
            created_at: now.plus_days(-90),
        });
        s.tokens.insert(token.into(), id.into());
    }
    s.addresses.push(Address {
        id: "addr-001".into(),
        user_id: "test-customer-001".into(),
        name: "Test Customer".into(),
        phone: "+919876543210".into(),
        line1: MUMBAI.0.into(),
        line2: MUMBAI.1.into(),
        city: MUMBAI.2.into(),
        state: MUMBAI.3.into(),
        pincode: MUMBAI.4.into(),
        country: "India".into(),
        is_default: true,
        created_at: now.plus_days(-90),
        updated_at: now.plus_days(-90),
    });
}

fn shops(s: &mut Store, now: Ts) {
    let list = [
        (
            "test-shop-001",
            "test-seller-001",
            "Tech Haven",
            "tech-haven",
            true,
            true,
        ),
        (
            "test-shop-002",
            "test-seller-002",
            "Style Street",
            "style-street",
            true,
            true,
        ),
        (
            "test-shop-003",
            "test-seller-002",
            "Home Nest",
            "home-nest",
            false,
            false,
        ),
    ];
    for (i, (id, owner, name, slug, verified, featured)) in list.into_iter().enumerate() {
        let rating = 3.5 + s.rng.below(15) as f64 / 10.0;
        s.shops.push(Shop {
            id: id.into(),
            owner_id: owner.into(),
            name: name.into(),
            slug: slug.into(),
            description: format!("{name}: a demo shop of the test marketplace"),
            email: Some(format!("{slug}@example.test")),
            phone: Some("+919876543210".into()),
            address: Some(json!({ "line1": MUMBAI.0, "city": MUMBAI.2, "state": MUMBAI.3, "pincode": MUMBAI.4, "country": "India" })),
            logo: None,
            banner: None,
            rating,
            review_count: s.rng.range(5, 200) as u32,
            product_count: 0,
            is_verified: verified,
            is_featured: featured,
            show_on_homepage: featured,
            is_banned: false,
            created_at: now.plus_days(-80 + i as i64),
            updated_at: now.plus_days(-80 + i as i64),
        });
    }
}

fn categories(s: &mut Store, now: Ts) {
    let list = [
        (
            "cat-electronics",
            "Electronics",
            "electronics",
            None,
            1,
            true,
        ),
        ("cat-fashion", "Fashion", "fashion", None, 2, true),
        ("cat-home", "Home & Kitchen", "home-kitchen", None, 3, false),
        (
            "cat-phones",
            "Mobile Phones",
            "mobile-phones",
            Some("cat-electronics"),
            1,
            false,
        ),
        (
            "cat-computers",
            "Computer Accessories",
            "computer-accessories",
            Some("cat-electronics"),
            2,
            false,
        ),
        (
            "cat-parent-test",
            "Test Parent Category",
            "test-parent-category",
            None,
            90,
            false,
        ),
        (
            "cat-child-test",
            "Test Child Category",
            "test-child-category",
            Some("cat-parent-test"),
            1,
            false,
        ),
    ];
    for (i, (id, name, slug, parent, order, featured)) in list.into_iter().enumerate() {
        let at = now.plus_days(-85 + i as i64);
        s.categories.push(Category {
            description: format!("{name} products"),
            sort_order: order,
            is_featured: featured,
            show_on_homepage: featured,
            commission_rate: 10.0,
            ..Category::new(
                id.into(),
                name.into(),
                slug.into(),
                parent.map(Into::into),
                at,
            )
        });
    }
}

fn variant(name: &str, price: Option<f64>, stock: u32) -> Variant {
    Variant {
        name: name.into(),
        value: Some(name.into()),
        price,
        stock: Some(stock),
        sku: None,
    }
}

fn products(s: &mut Store, now: Ts) {
    // (id, name, category, shop, base price, status, featured)
    let list = [
        (
            "prod-001",
            "Wireless Noise-Cancelling Headphones",
            "cat-electronics",
            "test-shop-001",
            2999.0,
            ProductStatus::Published,
            true,
        ),
        (
            "prod-002",
            "Smartphone X1",
            "cat-electronics",
            "test-shop-001",
            14999.0,
            ProductStatus::Published,
            true,
        ),
        (
            "prod-003",
            "Portable Bluetooth Speaker",
            "cat-electronics",
            "test-shop-002",
            1999.0,
            ProductStatus::Published,
            false,
        ),
        (
            "prod-004",
            "4K Action Camera",
            "cat-electronics",
            "test-shop-001",
            8999.0,
            ProductStatus::Published,
            false,
        ),
        (
            "prod-005",
            "Test Gadget Pro",
            "cat-electronics",
            "test-shop-002",
            499.0,
            ProductStatus::Published,
            false,
        ),
        (
            "prod-006",
            "Cotton Crew T-Shirt",
            "cat-fashion",
            "test-shop-002",
            599.0,
            ProductStatus::Published,
            true,
        ),
        (
            "prod-007",
            "Denim Jacket",
            "cat-fashion",
            "test-shop-002",
            2499.0,
            ProductStatus::Published,
            false,
        ),
        (
            "prod-008",
            "Ceramic Coffee Mug Set",
            "cat-home",
            "test-shop-001",
            899.0,
            ProductStatus::Published,
            false,
        ),
        (
            "prod-009",
            "LED Desk Lamp",
            "cat-home",
            "test-shop-003",
            1299.0,
            ProductStatus::Published,
            false,
        ),
        (
            "prod-010",
            "Smartwatch Fit",
            "cat-phones",
            "test-shop-001",
            4999.0,
            ProductStatus::Published,
            true,
        ),
        (
            "prod-011",
            "Aluminium Laptop Stand",
            "cat-computers",
            "test-shop-002",
            1499.0,
            ProductStatus::Published,
            false,
        ),
        (
            "prod-012",
            "Prototype Gadget (Draft)",
            "cat-electronics",
            "test-shop-001",
            999.0,
            ProductStatus::Draft,
            false,
        ),
    ];
    let n = list.len() as i64;
    for (i, (id, name, cat, shop, price, status, featured)) in list.into_iter().enumerate() {
        let stock = s.rng.range(40, 200) as u32;
        let variants = match id {
            "prod-001" => vec![
                variant("Black", None, stock / 2),
                variant("Silver", Some(price + 200.0), stock / 2),
            ],
            "prod-002" => vec![
                variant("64GB", None, stock / 2),
                variant("128GB", Some(price + 2000.0), stock / 2),
            ],
            "prod-006" => vec![
                variant("S", None, stock / 3),
                variant("M", None, stock / 3),
                variant("L", None, stock / 3),
            ],
            _ => vec![],
        };
        let slug = crate::validate::slugify(name);
        // Newest first in the default listing order is prod-001.
        let created = now.plus_days(-(30 + n) + (n - i as i64) - i as i64);
        s.products.push(Product {
            id: id.into(),
            shop_id: shop.into(),
            category_id: cat.into(),
            name: name.into(),
            slug: slug.clone(),
            description: format!("{name}: reliable, well reviewed and ready to ship."),
            price,
            original_price: Some((price * 1.2).round()),
            stock_count: stock,
            low_stock_threshold: 5,
            sku: Some(format!("SKU-{}", id.to_uppercase())),
            condition: "new".into(),
            brand: Some(["Acme", "Zenith", "Nova"][i % 3].into()),
            country_of_origin: Some("India".into()),
            images: vec![format!("https://example.test/images/{slug}.jpg")],
            variants,
            specifications: vec![Spec {
                name: "Warranty".into(),
                value: "1 year".into(),
            }],
            dimensions: None,
            shipping_class: Some("standard".into()),
            tags: vec!["demo".into(), cat.trim_start_matches("cat-").into()],
            is_returnable: true,
            return_window_days: 7,
            warranty: Some(json!("1 year manufacturer warranty")),
            meta_title: None,
            meta_description: None,
            rating: 3.0 + s.rng.below(21) as f64 / 10.0,
            review_count: 0,
            sales_count: s.rng.range(0, 500) as u32,
            view_count: s.rng.range(100, 5000),
            status,
            is_featured: featured,
            show_on_homepage: featured,
            created_at: created,
            updated_at: created,
        });
    }
}

fn order(
    s: &mut Store,
    id: &str,
    customer: &str,
    lines: &[(&str, u32)],
    status: OrderStatus,
    created: Ts,
) {
    let mut items = vec![];
    for (k, (pid, qty)) in lines.iter().enumerate() {
        if let Some(p) = s.products.iter().find(|p| p.id == *pid) {
            items.push(OrderItem {
                id: format!("oi-{}", k + 1),
                product_id: p.id.clone(),
                product_name: p.name.clone(),
                price: p.price,
                quantity: *qty,
                total: p.price * f64::from(*qty),
                variant: None,
                shop_id: p.shop_id.clone(),
            });
        }
    }
    let t = crate::pricing::totals(items.iter().map(|i| i.total).sum(), 0.0, false);
    let delivered = status == OrderStatus::Delivered;
    s.orders.push(Order {
        id: id.into(),
        order_number: format!("ORD-{}", id.trim_start_matches("ord-")),
        customer_id: customer.into(),
        shop_id: items.first().map(|i| i.shop_id.clone()).unwrap_or_default(),
        items,
        subtotal: t.subtotal,
        shipping: t.shipping,
        tax: t.tax,
        discount: 0.0,
        total: t.total,
        coupon_code: None,
        shipping_address: addr("Test Customer"),
        billing_address: addr("Test Customer"),
        status,
        payment_status: if delivered { "paid" } else { "pending" }.into(),
        payment_method: PaymentMethod::Cod,
        tracking_number: delivered.then(|| format!("TRK-{id}")),
        shipping_provider: delivered.then(|| "BlueDart".into()),
        estimated_delivery: None,
        shipped_at: delivered.then_some(created.plus_days(1)),
        delivered_at: delivered.then_some(created.plus_days(3)),
        cancelled_at: None,
        customer_notes: None,
        internal_notes: None,
        status_history: vec![StatusChange {
            status,
            at: created,
            by: customer.into(),
            notes: None,
        }],
        created_at: created,
        updated_at: created,
    });
}

fn orders(s: &mut Store, now: Ts) {
    let products = ["prod-001", "prod-004", "prod-008", "prod-010", "prod-002"];
    // Pending orders (workflow 03 and 11 consume them, one per run): mostly test-shop-001.
    for k in 0..10 {
        let id = format!("ord-{:03}", k + 1);
        let customer = if k % 3 == 2 {
            "test-customer-002"
        } else {
            "test-customer-001"
        };
        let p = if k % 4 == 3 {
            "prod-003"
        } else {
            products[k % products.len()]
        };
        let qty = s.rng.range(1, 3) as u32;
        order(
            s,
            &id,
            customer,
            &[(p, qty)],
            OrderStatus::Pending,
            now.plus_hours(-(k as i64) * 5 - 1),
        );
    }
    // Delivered orders, the ones the seeded returns refer to; spread over 60 days for analytics.
    for k in 0..12 {
        let id = format!("ord-{:03}", 101 + k);
        let customer = if k % 2 == 0 {
            "test-customer-001"
        } else {
            "test-customer-002"
        };
        let p = products[k % products.len()];
        let qty = s.rng.range(1, 2) as u32;
        order(
            s,
            &id,
            customer,
            &[(p, qty), ("prod-008", 1)],
            OrderStatus::Delivered,
            now.plus_days(-(k as i64) * 5 - 2),
        );
    }
    order(
        s,
        "ord-201",
        "test-customer-002",
        &[("prod-003", 1), ("prod-006", 2)],
        OrderStatus::Delivered,
        now.plus_days(-4),
    );
}

fn coupon(
    id: &str,
    shop: Option<&str>,
    code: &str,
    kind: CouponType,
    value: f64,
    now: Ts,
) -> Coupon {
    Coupon {
        id: id.into(),
        shop_id: shop.map(Into::into),
        code: code.into(),
        name: code.into(),
        description: format!("{code} demo coupon"),
        kind,
        discount_value: value,
        max_discount_amount: None,
        min_purchase_amount: 0.0,
        min_quantity: 1,
        applicability: Applicability::All,
        applicable_categories: vec![],
        applicable_products: vec![],
        usage_limit: None,
        usage_limit_per_user: None,
        usage_count: 0,
        start_date: now.plus_days(-30),
        end_date: now.plus_days(365),
        status: CouponStatus::Active,
        first_order_only: false,
        new_users_only: false,
        can_combine_with_other_coupons: false,
        auto_apply: false,
        is_public: true,
        is_featured: false,
        created_at: now.plus_days(-30),
        updated_at: now.plus_days(-30),
    }
}

fn coupons(s: &mut Store, now: Ts) {
    let mut test10 = coupon("cpn-001", None, "TEST10", CouponType::Percentage, 10.0, now);
    test10.max_discount_amount = Some(500.0);
    test10.is_featured = true;
    let mut seller20 = coupon(
        "cpn-002",
        Some("test-shop-001"),
        "SELLER20",
        CouponType::Percentage,
        20.0,
        now,
    );
    seller20.max_discount_amount = Some(1000.0);
    seller20.min_purchase_amount = 1000.0;
    seller20.created_at = now.plus_days(-29);
    let mut flat = coupon(
        "cpn-003",
        Some("test-shop-002"),
        "FLAT100",
        CouponType::Flat,
        100.0,
        now,
    );
    flat.min_purchase_amount = 500.0;
    flat.created_at = now.plus_days(-28);
    let mut limited = coupon(
        "cpn-004",
        Some("test-shop-001"),
        "LIMITED1",
        CouponType::Flat,
        50.0,
        now,
    );
    limited.usage_limit = Some(1);
    limited.usage_count = 1;
    limited.status = CouponStatus::UsedUp;
    limited.created_at = now.plus_days(-27);
    let mut expired = coupon(
        "cpn-005",
        None,
        "EXPIRED5",
        CouponType::Percentage,
        5.0,
        now,
    );
    expired.start_date = now.plus_days(-60);
    expired.end_date = now.plus_days(-1);
    expired.status = CouponStatus::Expired;
    expired.created_at = now.plus_days(-26);
    let mut future = coupon(
        "cpn-006",
        None,
        "FUTURE15",
        CouponType::Percentage,
        15.0,
        now,
    );
    future.start_date = now.plus_days(7);
    future.end_date = now.plus_days(37);
    future.created_at = now.plus_days(-25);
    s.coupons
        .extend([test10, seller20, flat, limited, expired, future]);
}

fn auctions(s: &mut Store, now: Ts) {
    // (id, name, shop, starting bid, ends in hours, status, featured)
    let list = [
        (
            "auc-001",
            "Vintage Film Camera",
            "test-shop-001",
            5000.0,
            24 * 7,
            AuctionStatus::Live,
            true,
        ),
        (
            "auc-002",
            "Signed Cricket Bat",
            "test-shop-002",
            8000.0,
            24 * 10,
            AuctionStatus::Live,
            true,
        ),
        (
            "auc-003",
            "Antique Brass Lamp",
            "test-shop-001",
            3000.0,
            24 * 5,
            AuctionStatus::Live,
            false,
        ),
        (
            "auc-004",
            "Limited Edition Sneakers",
            "test-shop-002",
            6000.0,
            24 * 14,
            AuctionStatus::Live,
            false,
        ),
        (
            "auc-005",
            "Retro Game Console",
            "test-shop-001",
            4000.0,
            24 * 9,
            AuctionStatus::Live,
            false,
        ),
        (
            "auc-006",
            "Handwoven Silk Saree",
            "test-shop-002",
            7000.0,
            24 * 12,
            AuctionStatus::Live,
            false,
        ),
        (
            "auc-007",
            "Mechanical Wristwatch",
            "test-shop-001",
            9000.0,
            20,
            AuctionStatus::Live,
            false,
        ),
        (
            "auc-008",
            "First Edition Novel",
            "test-shop-002",
            2000.0,
            24 * 20,
            AuctionStatus::Scheduled,
            false,
        ),
        (
            "auc-009",
            "Classic Vinyl Record",
            "test-shop-001",
            1500.0,
            -24,
            AuctionStatus::Ended,
            false,
        ),
    ];
    for (i, (id, name, shop, start_bid, hours, status, featured)) in list.into_iter().enumerate() {
        let start = if status == AuctionStatus::Scheduled {
            now.plus_days(2)
        } else {
            now.plus_days(-3)
        };
        s.auctions.push(Auction {
            id: id.into(),
            shop_id: shop.into(),
            name: name.into(),
            slug: crate::validate::slugify(name),
            description: format!("{name}, authenticated and in excellent condition."),
            images: vec![],
            videos: vec![],
            starting_bid: start_bid,
            reserve_price: Some(start_bid * 1.5),
            current_bid: start_bid,
            bid_count: 0,
            start_time: start,
            end_time: now.plus_hours(hours),
            winner_id: None,
            final_bid: None,
            status,
            is_featured: featured,
            show_on_homepage: featured,
            featured_priority: if featured { 10 - i as u32 } else { 0 },
            created_at: now.plus_days(-10).plus_hours(-(i as i64)),
            updated_at: now.plus_days(-10).plus_hours(-(i as i64)),
        });
    }
    // Two bids on the ending-soon auction and a won auction for the bidder.
    let bids = [
        ("bid-001", "auc-007", "test-customer-001", 9000.0, false),
        ("bid-002", "auc-007", "test-customer-002", 9500.0, true),
        ("bid-003", "auc-009", "test-bidder-001", 1500.0, false),
        ("bid-004", "auc-009", "test-customer-001", 1600.0, false),
        ("bid-005", "auc-009", "test-bidder-001", 1800.0, true),
    ];
    for (k, (id, auction, user, amount, winning)) in bids.into_iter().enumerate() {
        s.bids.push(Bid {
            id: id.into(),
            auction_id: auction.into(),
            user_id: user.into(),
            bid_amount: amount,
            bid_time: now.plus_hours(-48 + k as i64),
            is_winning: winning,
            is_auto_bid: false,
            max_auto_bid: None,
        });
        if let Some(a) = s.auctions.iter_mut().find(|a| a.id == auction) {
            a.bid_count += 1;
            a.current_bid = a.current_bid.max(amount);
        }
    }
    if let Some(a) = s.auctions.iter_mut().find(|a| a.id == "auc-009") {
        a.winner_id = Some("test-bidder-001".into());
        a.final_bid = Some(1800.0);
    }
}

fn returns(s: &mut Store, now: Ts) {
    // (id, order, status, admin intervention, reason)
    let list = [
        (
            "ret-001",
            "ord-101",
            ReturnStatus::Requested,
            false,
            ReturnReason::Defective,
        ),
        (
            "ret-002",
            "ord-102",
            ReturnStatus::Requested,
            false,
            ReturnReason::WrongItem,
        ),
        (
            "ret-003",
            "ord-103",
            ReturnStatus::Requested,
            true,
            ReturnReason::NotAsDescribed,
        ),
        (
            "ret-004",
            "ord-104",
            ReturnStatus::Requested,
            false,
            ReturnReason::Damaged,
        ),
        (
            "ret-005",
            "ord-105",
            ReturnStatus::Requested,
            false,
            ReturnReason::ChangedMind,
        ),
        (
            "ret-006",
            "ord-106",
            ReturnStatus::Requested,
            true,
            ReturnReason::Defective,
        ),
        (
            "ret-007",
            "ord-107",
            ReturnStatus::Rejected,
            true,
            ReturnReason::NotAsDescribed,
        ),
        (
            "ret-008",
            "ord-108",
            ReturnStatus::Approved,
            false,
            ReturnReason::Damaged,
        ),
        (
            "ret-009",
            "ord-201",
            ReturnStatus::Requested,
            false,
            ReturnReason::WrongItem,
        ),
    ];
    for (i, (id, oid, status, admin, reason)) in list.into_iter().enumerate() {
        let Some(o) = s.orders.iter().find(|o| o.id == oid) else {
            continue;
        };
        let item = o
            .items
            .iter()
            .find(|it| it.shop_id == "test-shop-001")
            .unwrap_or(&o.items[0]);
        let created = now.plus_hours(-(i as i64) * 3 - 1);
        let r = ReturnRequest {
            id: id.into(),
            order_id: o.id.clone(),
            order_item_id: item.id.clone(),
            customer_id: o.customer_id.clone(),
            shop_id: item.shop_id.clone(),
            reason,
            description: format!("Return request {id}: the item was not as expected."),
            media: vec![format!("https://example.test/returns/{id}-1.jpg")],
            status,
            refund_amount: None,
            refund_method: None,
            refund_transaction_id: None,
            refunded_at: None,
            requires_admin_intervention: admin,
            resolution: None,
            seller_notes: (status == ReturnStatus::Rejected)
                .then(|| "Item shows signs of use".into()),
            admin_notes: None,
            created_at: created,
            updated_at: created,
        };
        s.returns.push(r);
    }
}

fn tickets(s: &mut Store, now: Ts) {
    let list = [
        (
            "tkt-001",
            "test-customer-001",
            TicketCategory::OrderIssue,
            Priority::High,
            "Order not delivered yet",
            TicketStatus::Open,
        ),
        (
            "tkt-002",
            "test-customer-002",
            TicketCategory::Payment,
            Priority::Medium,
            "Charged twice for one order",
            TicketStatus::Open,
        ),
        (
            "tkt-003",
            "test-customer-001",
            TicketCategory::ProductQuestion,
            Priority::Low,
            "Does the camera support 60fps?",
            TicketStatus::Open,
        ),
        (
            "tkt-004",
            "test-bidder-001",
            TicketCategory::Account,
            Priority::Urgent,
            "Cannot update my phone number",
            TicketStatus::Open,
        ),
        (
            "tkt-005",
            "test-customer-002",
            TicketCategory::ReturnRefund,
            Priority::Medium,
            "Refund status for my return",
            TicketStatus::InProgress,
        ),
    ];
    for (i, (id, user, category, priority, subject, status)) in list.into_iter().enumerate() {
        let created = now.plus_hours(-(i as i64) * 7 - 2);
        s.tickets.push(Ticket {
            id: id.into(),
            user_id: user.into(),
            shop_id: None,
            order_id: None,
            category,
            priority,
            subject: subject.into(),
            description: format!("{subject}. Please help me with this as soon as possible."),
            attachments: vec![],
            status,
            assigned_to: (status == TicketStatus::InProgress).then(|| "test-admin-001".into()),
            message_count: 0,
            created_at: created,
            updated_at: created,
            resolved_at: None,
        });
    }
}

fn reviews(s: &mut Store, now: Ts) {
    let comments = [
        "Great value for money, works as described.",
        "Decent quality but delivery took a while.",
        "Not what I expected; the finish is rough.",
        "Excellent! Would buy again.",
        "Average product, does the job.",
        "Stopped working after a week.",
    ];
    let products = [
        "prod-001", "prod-002", "prod-003", "prod-004", "prod-006", "prod-010",
    ];
    let users = ["test-customer-002", "test-bidder-001"];
    let mut n = 0;
    for (k, pid) in products.iter().enumerate() {
        for (j, uid) in users.iter().enumerate() {
            n += 1;
            let Some(p) = s.products.iter().find(|p| p.id == *pid) else {
                continue;
            };
            let shop = p.shop_id.clone();
            let rating = s.rng.range(1, 5) as u8;
            let created = now.plus_hours(-(n as i64) * 4);
            let name = s
                .users
                .iter()
                .find(|u| u.id == *uid)
                .map(|u| u.name.clone())
                .unwrap_or_default();
            s.reviews.push(Review {
                id: format!("rev-{n:03}"),
                user_id: (*uid).into(),
                user_name: name,
                product_id: (*pid).into(),
                shop_id: shop,
                order_id: None,
                rating,
                title: format!("Review of {pid}"),
                comment: comments[(k + j) % comments.len()].into(),
                media: vec![],
                verified_purchase: false,
                helpful_count: 0,
                helpful_by: vec![],
                is_featured: false,
                // The first of each pair waits for moderation.
                is_approved: j == 1,
                moderation_notes: None,
                moderated_at: None,
                moderated_by: None,
                created_at: created,
                updated_at: created,
            });
        }
    }
    for pid in products {
        let (c, sum) = s
            .reviews
            .iter()
            .filter(|r| r.product_id == pid && r.is_approved)
            .fold((0u32, 0u32), |(c, t), r| (c + 1, t + u32::from(r.rating)));
        if let Some(p) = s.products.iter_mut().find(|p| p.id == pid)
            && c > 0
        {
            p.review_count = c;
            p.rating = (f64::from(sum) / f64::from(c) * 10.0).round() / 10.0;
        }
    }
}

fn blog(s: &mut Store, now: Ts) {
    let list = [
        (
            "blog-001",
            "Welcome to the Marketplace",
            "announcements",
            BlogStatus::Published,
            true,
        ),
        (
            "blog-002",
            "How Auctions Work",
            "guides",
            BlogStatus::Published,
            false,
        ),
        (
            "blog-003",
            "Top 10 Gadgets This Season",
            "technology",
            BlogStatus::Published,
            true,
        ),
        (
            "blog-004",
            "Upcoming Features (Draft)",
            "announcements",
            BlogStatus::Draft,
            false,
        ),
    ];
    for (i, (id, title, category, status, featured)) in list.into_iter().enumerate() {
        let created = now.plus_days(-20 + i as i64 * 3);
        s.blog.push(BlogPost {
            id: id.into(),
            title: title.into(),
            slug: crate::validate::slugify(title),
            excerpt: format!("{title}: a short summary."),
            content: format!("# {title}\n\nThis is demo content for the post \"{title}\". It is long enough to read like a real article, with more than a hundred characters."),
            featured_image: None,
            author: Author { id: "test-admin-001".into(), name: "Test Admin".into(), avatar: None },
            category: category.into(),
            tags: vec!["demo".into(), category.into()],
            status,
            is_featured: featured,
            show_on_homepage: featured,
            published_at: (status == BlogStatus::Published).then_some(created),
            views: s.rng.range(10, 1000),
            likes: s.rng.range(0, 100),
            created_at: created,
            updated_at: created,
        });
    }
}

fn slides(s: &mut Store, now: Ts) {
    let list = [
        ("slide-001", "Big Festive Sale", "/products", true),
        ("slide-002", "Live Auctions Every Day", "/auctions", true),
        (
            "slide-003",
            "New Arrivals",
            "/products?sortBy=createdAt",
            false,
        ),
    ];
    for (i, (id, title, link, active)) in list.into_iter().enumerate() {
        s.slides.push(HeroSlide {
            id: id.into(),
            title: title.into(),
            subtitle: Some("Demo slide".into()),
            description: None,
            image: format!("https://example.test/slides/{id}.jpg"),
            mobile_image: None,
            cta_text: "Shop Now".into(),
            cta_link: link.into(),
            cta_target: "_self".into(),
            order: i as u32 + 1,
            is_active: active,
            start_date: None,
            end_date: None,
            background_color: Some("#101828".into()),
            text_color: Some("#ffffff".into()),
            created_at: now.plus_days(-15),
            updated_at: now.plus_days(-15),
        });
    }
}
