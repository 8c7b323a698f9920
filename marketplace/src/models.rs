//! The resources the store holds, as they appear on the wire (camelCase JSON).

use crate::time::Ts;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Shops, orders, reviews, tickets, returns.
    Customer,
    /// A customer who bids (any authenticated user may bid; the role is informational).
    Bidder,
    /// Owns shops; manages their products, coupons, auctions, orders and returns.
    Seller,
    /// Everything.
    Admin,
}

/// An account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub phone: Option<String>,
    pub avatar: Option<String>,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub created_at: Ts,
}

impl User {
    /// Whether the user is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the user may sell (create shops, products, auctions, coupons): sellers and admins.
    pub fn sells(&self) -> bool {
        matches!(self.role, Role::Seller | Role::Admin)
    }
}

/// The wire name of an enum value (`"in-progress"` for `TicketStatus::InProgress`); empty for
/// anything that does not serialize to a string.
pub fn wire_name(v: impl Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A saved address of a user.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub phone: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub state: String,
    pub pincode: String,
    pub country: String,
    pub is_default: bool,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A postal address embedded in an order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostalAddress {
    pub name: String,
    #[serde(default)]
    pub phone: String,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    pub state: String,
    pub pincode: String,
    pub country: String,
}

/// A seller's shop.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shop {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Value>,
    pub logo: Option<String>,
    pub banner: Option<String>,
    pub rating: f64,
    pub review_count: u32,
    pub product_count: u32,
    pub is_verified: bool,
    pub is_featured: bool,
    pub show_on_homepage: bool,
    pub is_banned: bool,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A node of the category tree; `level`, `path`, `hasChildren`, `childCount` are maintained
/// by the server.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub parent_id: Option<String>,
    pub parent_ids: Vec<String>,
    pub children_ids: Vec<String>,
    pub path: String,
    pub paths: Vec<String>,
    pub level: u32,
    pub has_children: bool,
    pub child_count: u32,
    pub sort_order: u32,
    pub product_count: u32,
    pub is_featured: bool,
    pub show_on_homepage: bool,
    pub is_active: bool,
    pub commission_rate: f64,
    pub icon: Option<String>,
    pub image: Option<String>,
    pub color: Option<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

impl Category {
    /// An active category named `name` under `parent_id`, created at `at`, with every other
    /// field at its default; the tree fields are left for `Store::rebuild_categories`.
    pub fn new(id: String, name: String, slug: String, parent_id: Option<String>, at: Ts) -> Self {
        Category {
            id,
            name,
            slug,
            description: String::new(),
            parent_id,
            parent_ids: vec![],
            children_ids: vec![],
            path: String::new(),
            paths: vec![],
            level: 0,
            has_children: false,
            child_count: 0,
            sort_order: 0,
            product_count: 0,
            is_featured: false,
            show_on_homepage: false,
            is_active: true,
            commission_rate: 0.0,
            icon: None,
            image: None,
            color: None,
            meta_title: None,
            meta_description: None,
            created_at: at,
            updated_at: at,
        }
    }
}

/// Product status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProductStatus {
    Draft,
    Published,
    Archived,
    OutOfStock,
}

/// A product variant (size, colour, storage...).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub price: Option<f64>,
    #[serde(default)]
    pub stock: Option<u32>,
    #[serde(default)]
    pub sku: Option<String>,
}

/// A `{name, value}` specification row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub value: String,
}

/// Package dimensions of a product.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dimensions {
    #[serde(default)]
    pub length: Option<f64>,
    #[serde(default)]
    pub width: Option<f64>,
    #[serde(default)]
    pub height: Option<f64>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub weight: Option<f64>,
    #[serde(default)]
    pub weight_unit: Option<String>,
}

/// A product.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: String,
    pub shop_id: String,
    pub category_id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub price: f64,
    pub original_price: Option<f64>,
    pub stock_count: u32,
    pub low_stock_threshold: u32,
    pub sku: Option<String>,
    pub condition: String,
    pub brand: Option<String>,
    pub country_of_origin: Option<String>,
    pub images: Vec<String>,
    pub variants: Vec<Variant>,
    pub specifications: Vec<Spec>,
    pub dimensions: Option<Dimensions>,
    pub shipping_class: Option<String>,
    pub tags: Vec<String>,
    pub is_returnable: bool,
    pub return_window_days: u32,
    pub warranty: Option<Value>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub rating: f64,
    pub review_count: u32,
    pub sales_count: u32,
    pub view_count: u64,
    pub status: ProductStatus,
    pub is_featured: bool,
    pub show_on_homepage: bool,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A line of a cart.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartItem {
    pub id: String,
    pub product_id: String,
    pub product_name: String,
    pub price: f64,
    pub quantity: u32,
    pub variant: Option<String>,
    pub shop_id: String,
    pub image: Option<String>,
    pub added_at: Ts,
}

/// A user's cart.
#[derive(Debug, Clone, Default)]
pub struct Cart {
    pub items: Vec<CartItem>,
    pub coupon_code: Option<String>,
}

/// Order status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Processing,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

/// Payment method of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentMethod {
    Razorpay,
    Paypal,
    Cod,
}

/// A line of an order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub id: String,
    pub product_id: String,
    pub product_name: String,
    pub price: f64,
    pub quantity: u32,
    pub total: f64,
    pub variant: Option<String>,
    pub shop_id: String,
}

/// One entry of an order's status history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    pub status: OrderStatus,
    pub at: Ts,
    pub by: String,
    pub notes: Option<String>,
}

/// An order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub order_number: String,
    pub customer_id: String,
    pub shop_id: String,
    pub items: Vec<OrderItem>,
    pub subtotal: f64,
    pub shipping: f64,
    pub tax: f64,
    pub discount: f64,
    pub total: f64,
    pub coupon_code: Option<String>,
    pub shipping_address: PostalAddress,
    pub billing_address: PostalAddress,
    pub status: OrderStatus,
    pub payment_status: String,
    pub payment_method: PaymentMethod,
    pub tracking_number: Option<String>,
    pub shipping_provider: Option<String>,
    pub estimated_delivery: Option<Ts>,
    pub shipped_at: Option<Ts>,
    pub delivered_at: Option<Ts>,
    pub cancelled_at: Option<Ts>,
    pub customer_notes: Option<String>,
    pub internal_notes: Option<String>,
    pub status_history: Vec<StatusChange>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// Coupon discount type. `fixed` is accepted on input as an alias of `flat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CouponType {
    Percentage,
    #[serde(alias = "fixed")]
    Flat,
    Bogo,
    Tiered,
    FreeShipping,
}

/// Coupon status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CouponStatus {
    Active,
    Inactive,
    Expired,
    UsedUp,
}

/// Which items a coupon targets (stored, informational).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    All,
    Category,
    Product,
}

/// A discount coupon; its code is unique across the marketplace.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coupon {
    pub id: String,
    pub shop_id: Option<String>,
    pub code: String,
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: CouponType,
    pub discount_value: f64,
    pub max_discount_amount: Option<f64>,
    pub min_purchase_amount: f64,
    pub min_quantity: u32,
    pub applicability: Applicability,
    pub applicable_categories: Vec<String>,
    pub applicable_products: Vec<String>,
    pub usage_limit: Option<u32>,
    pub usage_limit_per_user: Option<u32>,
    pub usage_count: u32,
    pub start_date: Ts,
    pub end_date: Ts,
    pub status: CouponStatus,
    pub first_order_only: bool,
    pub new_users_only: bool,
    pub can_combine_with_other_coupons: bool,
    pub auto_apply: bool,
    pub is_public: bool,
    pub is_featured: bool,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// Auction status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuctionStatus {
    Draft,
    Scheduled,
    Live,
    Ended,
    Cancelled,
}

/// An auction.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Auction {
    pub id: String,
    pub shop_id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub images: Vec<String>,
    pub videos: Vec<String>,
    pub starting_bid: f64,
    pub reserve_price: Option<f64>,
    pub current_bid: f64,
    pub bid_count: u32,
    pub start_time: Ts,
    pub end_time: Ts,
    pub winner_id: Option<String>,
    pub final_bid: Option<f64>,
    pub status: AuctionStatus,
    pub is_featured: bool,
    pub show_on_homepage: bool,
    pub featured_priority: u32,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A bid on an auction.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bid {
    pub id: String,
    pub auction_id: String,
    pub user_id: String,
    pub bid_amount: f64,
    pub bid_time: Ts,
    pub is_winning: bool,
    pub is_auto_bid: bool,
    pub max_auto_bid: Option<f64>,
}

/// Support ticket category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketCategory {
    OrderIssue,
    ReturnRefund,
    ProductQuestion,
    Account,
    Payment,
    Other,
}

/// Support ticket priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

/// Support ticket status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketStatus {
    Open,
    InProgress,
    Resolved,
    Closed,
    Escalated,
}

/// A support ticket.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: String,
    pub user_id: String,
    pub shop_id: Option<String>,
    pub order_id: Option<String>,
    pub category: TicketCategory,
    pub priority: Priority,
    pub subject: String,
    pub description: String,
    pub attachments: Vec<String>,
    pub status: TicketStatus,
    pub assigned_to: Option<String>,
    pub message_count: u32,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub resolved_at: Option<Ts>,
}

/// A message on a ticket.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub ticket_id: String,
    pub sender_id: String,
    pub sender_role: Role,
    pub message: String,
    pub attachments: Vec<String>,
    pub is_internal: bool,
    pub created_at: Ts,
}

/// A product review.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub product_id: String,
    pub shop_id: String,
    pub order_id: Option<String>,
    pub rating: u8,
    pub title: String,
    pub comment: String,
    pub media: Vec<String>,
    pub verified_purchase: bool,
    pub helpful_count: u32,
    #[serde(skip)]
    pub helpful_by: Vec<String>,
    pub is_featured: bool,
    pub is_approved: bool,
    pub moderation_notes: Option<String>,
    pub moderated_at: Option<Ts>,
    pub moderated_by: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A favorite (wishlist entry); unique per (user, product).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Favorite {
    pub id: String,
    pub user_id: String,
    pub product_id: String,
    pub added_at: Ts,
}

/// Return status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReturnStatus {
    Requested,
    Approved,
    Rejected,
    ItemReceived,
    RefundProcessed,
    Completed,
    Escalated,
}

/// Why an item is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReturnReason {
    Defective,
    WrongItem,
    NotAsDescribed,
    Damaged,
    ChangedMind,
    Other,
}

/// A return / refund request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnRequest {
    pub id: String,
    pub order_id: String,
    pub order_item_id: String,
    pub customer_id: String,
    pub shop_id: String,
    pub reason: ReturnReason,
    pub description: String,
    pub media: Vec<String>,
    pub status: ReturnStatus,
    pub refund_amount: Option<f64>,
    pub refund_method: Option<String>,
    pub refund_transaction_id: Option<String>,
    pub refunded_at: Option<Ts>,
    pub requires_admin_intervention: bool,
    pub resolution: Option<String>,
    pub seller_notes: Option<String>,
    pub admin_notes: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// Blog post status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlogStatus {
    Draft,
    Published,
    Archived,
}

/// A blog post's author.
#[derive(Debug, Clone, Serialize)]
pub struct Author {
    pub id: String,
    pub name: String,
    pub avatar: Option<String>,
}

/// A blog post.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlogPost {
    pub id: String,
    pub title: String,
    pub slug: String,
    pub excerpt: String,
    pub content: String,
    pub featured_image: Option<String>,
    pub author: Author,
    pub category: String,
    pub tags: Vec<String>,
    pub status: BlogStatus,
    pub is_featured: bool,
    pub show_on_homepage: bool,
    pub published_at: Option<Ts>,
    pub views: u64,
    pub likes: u64,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// A homepage hero slide.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeroSlide {
    pub id: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub description: Option<String>,
    pub image: String,
    pub mobile_image: Option<String>,
    pub cta_text: String,
    pub cta_link: String,
    pub cta_target: String,
    pub order: u32,
    pub is_active: bool,
    pub start_date: Option<Ts>,
    pub end_date: Option<Ts>,
    pub background_color: Option<String>,
    pub text_color: Option<String>,
    pub created_at: Ts,
    pub updated_at: Ts,
}
