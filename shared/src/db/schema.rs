// @generated automatically by Diesel CLI.

diesel::table! {
    accounts (id) {
        id -> Int8,
        name -> Text,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        credits -> Int8,
        is_system -> Bool,
        plan_id -> Int8,
    }
}

diesel::table! {
    dead_letters (id) {
        id -> Int8,
        queue -> Text,
        message_id -> Nullable<Text>,
        task_id -> Nullable<Uuid>,
        kind -> Text,
        account_id -> Nullable<Int8>,
        error_code -> Text,
        error_message -> Text,
        attempts -> Nullable<Int4>,
        body -> Bytea,
        dead_at -> Timestamptz,
    }
}

diesel::table! {
    ai_prompts (id) {
        id -> Int8,
        account_id -> Int8,
        prompt_type -> Text,
        prompt_value -> Text,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    auth_sessions (id) {
        id -> Uuid,
        user_id -> Int8,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    author_profiles (id) {
        id -> Int8,
        account_id -> Int8,
        name -> Text,
        description -> Text,
        tone -> Text,
        persona -> Text,
        language -> Text,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    clusters (id) {
        id -> Int8,
        account_id -> Int8,
        site_id -> Int8,
        sector_id -> Nullable<Int8>,
        name -> Text,
        description -> Text,
        intent -> Nullable<Text>,
        status -> Text,
        source -> Text,
        keywords_count -> Int4,
        volume -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    content (id) {
        id -> Int8,
        account_id -> Int8,
        site_id -> Int8,
        sector_id -> Nullable<Int8>,
        writer_task_id -> Nullable<Int8>,
        title -> Text,
        meta_title -> Text,
        meta_description -> Text,
        html_content -> Text,
        word_count -> Int4,
        primary_keyword -> Text,
        secondary_keywords -> Jsonb,
        content_type -> Text,
        status -> Text,
        wp_post_id -> Nullable<Int8>,
        wp_post_url -> Nullable<Text>,
        published_at -> Nullable<Timestamptz>,
        task_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    content_ideas (id) {
        id -> Int8,
        account_id -> Int8,
        site_id -> Int8,
        sector_id -> Nullable<Int8>,
        cluster_id -> Nullable<Int8>,
        idea_title -> Text,
        description -> Text,
        content_type -> Text,
        content_structure -> Text,
        target_keywords -> Jsonb,
        outline -> Jsonb,
        estimated_word_count -> Int4,
        status -> Text,
        task_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    credit_packages (id) {
        id -> Int8,
        code -> Text,
        name -> Text,
        credits -> Int8,
        amount_minor -> Int8,
        currency -> Text,
        active -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    payments (id) {
        id -> Int8,
        account_id -> Int8,
        provider -> Text,
        reference -> Text,
        checkout_session -> Nullable<Text>,
        paid -> Bool,
        amount_minor -> Int8,
        currency -> Text,
        package_id -> Nullable<Int8>,
        credits_bought -> Int8,
        refunded_minor -> Int8,
        disputed_minor -> Int8,
        dispute_won -> Bool,
        credits_net -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    payment_events (id) {
        id -> Int8,
        event_id -> Text,
        event_type -> Text,
        payment_id -> Nullable<Int8>,
        outcome -> Text,
        credits -> Int8,
        detail -> Text,
        body -> Text,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    credit_transactions (id) {
        id -> Int8,
        account_id -> Int8,
        transaction_type -> Text,
        amount -> Int8,
        balance_after -> Int8,
        description -> Text,
        task_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    credit_usage_logs (id) {
        id -> Int8,
        account_id -> Int8,
        operation_type -> Text,
        credits_used -> Int8,
        cost_usd -> Numeric,
        model_used -> Text,
        tokens_input -> Int4,
        tokens_output -> Int4,
        units -> Int4,
        task_id -> Nullable<Uuid>,
        related_object_type -> Nullable<Text>,
        related_object_id -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    diagnostic_pings (task_id) {
        task_id -> Uuid,
        steps -> Int4,
        attempts -> Int4,
        writes -> Int4,
        completed_at -> Timestamptz,
    }
}

diesel::table! {
    images (id) {
        id -> Int8,
        account_id -> Int8,
        site_id -> Int8,
        sector_id -> Nullable<Int8>,
        content_id -> Nullable<Int8>,
        writer_task_id -> Nullable<Int8>,
        image_type -> Text,
        position -> Int4,
        prompt -> Text,
        status -> Text,
        file_path -> Nullable<Text>,
        mime_type -> Nullable<Text>,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        wp_media_id -> Nullable<Int8>,
        task_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        wp_media_url -> Nullable<Text>,
    }
}

diesel::table! {
    industries (id) {
        id -> Int8,
        name -> Text,
        slug -> Text,
        description -> Text,
        is_active -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    integration_settings (id) {
        id -> Int8,
        account_id -> Int8,
        integration_type -> Text,
        config -> Jsonb,
        secret -> Nullable<Bytea>,
        secret_hint -> Nullable<Text>,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    keywords (id) {
        id -> Int8,
        account_id -> Int8,
        site_id -> Int8,
        sector_id -> Nullable<Int8>,
        seed_keyword_id -> Nullable<Int8>,
        cluster_id -> Nullable<Int8>,
        keyword -> Text,
        volume -> Int4,
        difficulty -> Int2,
        intent -> Text,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    login_throttles (email) {
        email -> Text,
        failures -> Int4,
        first_failed_at -> Timestamptz,
        last_failed_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    odoo_records (account_id, model, odoo_id) {
        account_id -> Int8,
        model -> Text,
        odoo_id -> Int8,
        name -> Text,
        data -> Jsonb,
        write_date -> Text,
        active -> Bool,
        deleted -> Bool,
        synced_at -> Timestamptz,
    }
}

diesel::table! {
    odoo_sync_state (account_id, model) {
        account_id -> Int8,
        model -> Text,
        cursor_write_date -> Nullable<Text>,
        cursor_id -> Int8,
        last_run_at -> Nullable<Timestamptz>,
        last_status -> Nullable<Text>,
        last_error -> Nullable<Text>,
        last_task_id -> Nullable<Uuid>,
        last_synced -> Int4,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        task_id -> Uuid,
        routing_key -> Text,
        body -> Jsonb,
        created_at -> Timestamptz,
        publish_attempts -> Int4,
        last_error -> Nullable<Text>,
        trace_id -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        session_id -> Uuid,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    schedule_fires (schedule_id, fire_at) {
        schedule_id -> Int8,
        fire_at -> Timestamptz,
        task_id -> Nullable<Uuid>,
        fired_at -> Timestamptz,
    }
}

diesel::table! {
    schedules (id) {
        id -> Int8,
        account_id -> Int8,
        name -> Text,
        cron -> Text,
        timezone -> Text,
        kind -> Text,
        payload -> Jsonb,
        enabled -> Bool,
        last_fire_at -> Nullable<Timestamptz>,
        next_fire_at -> Nullable<Timestamptz>,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sectors (id) {
        id -> Int8,
        account_id -> Int8,
        site_id -> Int8,
        name -> Text,
        slug -> Text,
        description -> Text,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    seed_keywords (id) {
        id -> Int8,
        industry_id -> Int8,
        keyword -> Text,
        volume -> Int4,
        difficulty -> Int2,
        intent -> Text,
        is_active -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    seo_audits (id) {
        id -> Int8,
        account_id -> Int8,
        site_id -> Nullable<Int8>,
        task_id -> Uuid,
        url -> Text,
        final_url -> Text,
        host -> Text,
        keywords -> Jsonb,
        score -> Int2,
        category_scores -> Jsonb,
        issue_ids -> Jsonb,
        issues -> Int4,
        pages_audited -> Int4,
        report -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    settings (id) {
        id -> Int8,
        scope -> Text,
        account_id -> Nullable<Int8>,
        user_id -> Nullable<Int8>,
        module -> Nullable<Text>,
        key -> Text,
        value -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sites (id) {
        id -> Int8,
        account_id -> Int8,
        name -> Text,
        slug -> Text,
        domain -> Nullable<Text>,
        description -> Text,
        industry -> Nullable<Text>,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        author_profile_id -> Nullable<Int8>,
        strategy_id -> Nullable<Int8>,
        wp_url -> Nullable<Text>,
        wp_username -> Nullable<Text>,
        wp_app_password -> Nullable<Bytea>,
        wp_app_password_hint -> Nullable<Text>,
    }
}

diesel::table! {
    social_accounts (id) {
        id -> Int8,
        account_id -> Int8,
        platform -> Text,
        handle -> Text,
        base_url -> Text,
        token -> Bytea,
        token_hint -> Text,
        status -> Text,
        connected_at -> Timestamptz,
        platform_user_id -> Text,
    }
}

diesel::table! {
    social_posts (id) {
        id -> Int8,
        account_id -> Int8,
        social_account_id -> Int8,
        platform -> Text,
        content -> Text,
        media -> Jsonb,
        target_audience -> Jsonb,
        scheduled_at -> Timestamptz,
        status -> Text,
        publish_marker -> Nullable<Uuid>,
        remote_id -> Nullable<Text>,
        remote_url -> Nullable<Text>,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
        task_id -> Nullable<Uuid>,
        published_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        likes -> Int4,
        shares -> Int4,
        replies -> Int4,
        impressions -> Nullable<Int4>,
        insights_at -> Nullable<Timestamptz>,
        publish_started_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    strategies (id) {
        id -> Int8,
        account_id -> Int8,
        name -> Text,
        description -> Text,
        target_audience -> Text,
        guidelines -> Text,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    task_attempts (task_id, attempt) {
        task_id -> Uuid,
        attempt -> Int4,
        worker_id -> Nullable<Uuid>,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        outcome -> Text,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    tasks (id) {
        id -> Uuid,
        account_id -> Int8,
        kind -> Text,
        queue -> Text,
        state -> Text,
        phase -> Text,
        percentage -> Int2,
        message -> Text,
        payload -> Jsonb,
        result -> Nullable<Jsonb>,
        error -> Nullable<Jsonb>,
        attempts -> Int4,
        max_attempts -> Int4,
        idempotency_key -> Nullable<Text>,
        request_fingerprint -> Nullable<Text>,
        parent_id -> Nullable<Uuid>,
        created_by -> Nullable<Int8>,
        worker_id -> Nullable<Uuid>,
        revision -> Int8,
        cancel_requested -> Bool,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        account_id -> Int8,
        email -> Text,
        password_hash -> Nullable<Text>,
        role -> Text,
        first_name -> Text,
        last_name -> Text,
        is_active -> Bool,
        invite_token_hash -> Nullable<Text>,
        invite_expires_at -> Nullable<Timestamptz>,
        last_login_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    worker_heartbeats (id) {
        id -> Uuid,
        kind -> Text,
        hostname -> Text,
        pid -> Int4,
        version -> Text,
        started_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        in_flight -> Int4,
        processed -> Int8,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Int8,
        endpoint_id -> Int8,
        account_id -> Int8,
        source -> Text,
        delivery_id -> Text,
        event -> Text,
        headers -> Jsonb,
        body -> Text,
        status -> Text,
        task_id -> Nullable<Uuid>,
        detail -> Text,
        received_at -> Timestamptz,
        content_key -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Int8,
        account_id -> Int8,
        source -> Text,
        key -> Text,
        secret -> Bytea,
        site_id -> Nullable<Int8>,
        command_kind -> Nullable<Text>,
        command_payload -> Nullable<Jsonb>,
        rejected_count -> Int8,
        last_rejected_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        is_install_default -> Bool,
    }
}

diesel::table! {
    writer_tasks (id) {
        id -> Int8,
        account_id -> Int8,
        site_id -> Int8,
        sector_id -> Nullable<Int8>,
        cluster_id -> Nullable<Int8>,
        idea_id -> Nullable<Int8>,
        title -> Text,
        description -> Text,
        keywords -> Jsonb,
        content_type -> Text,
        content_structure -> Text,
        outline -> Jsonb,
        word_count -> Int4,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(task_attempts -> tasks (task_id));
diesel::joinable!(social_accounts -> accounts (account_id));
diesel::joinable!(payments -> accounts (account_id));
diesel::joinable!(payments -> credit_packages (package_id));
diesel::joinable!(payment_events -> payments (payment_id));
diesel::joinable!(odoo_records -> accounts (account_id));
diesel::joinable!(odoo_sync_state -> accounts (account_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_endpoints -> accounts (account_id));
diesel::joinable!(seo_audits -> accounts (account_id));
diesel::joinable!(ai_prompts -> accounts (account_id));
diesel::joinable!(auth_sessions -> users (user_id));
diesel::joinable!(author_profiles -> accounts (account_id));
diesel::joinable!(clusters -> accounts (account_id));
diesel::joinable!(content -> accounts (account_id));
diesel::joinable!(content -> writer_tasks (writer_task_id));
diesel::joinable!(content_ideas -> accounts (account_id));
diesel::joinable!(credit_transactions -> accounts (account_id));
diesel::joinable!(credit_usage_logs -> accounts (account_id));
diesel::joinable!(diagnostic_pings -> tasks (task_id));
diesel::joinable!(images -> accounts (account_id));
diesel::joinable!(images -> writer_tasks (writer_task_id));
diesel::joinable!(integration_settings -> accounts (account_id));
diesel::joinable!(keywords -> accounts (account_id));
diesel::joinable!(keywords -> seed_keywords (seed_keyword_id));
diesel::joinable!(refresh_tokens -> auth_sessions (session_id));
diesel::joinable!(schedule_fires -> schedules (schedule_id));
diesel::joinable!(schedules -> accounts (account_id));
diesel::joinable!(schedules -> users (created_by));
diesel::joinable!(sectors -> accounts (account_id));
diesel::joinable!(seed_keywords -> industries (industry_id));
diesel::joinable!(settings -> accounts (account_id));
diesel::joinable!(settings -> users (user_id));
diesel::joinable!(sites -> accounts (account_id));
diesel::joinable!(strategies -> accounts (account_id));
diesel::joinable!(tasks -> accounts (account_id));
diesel::joinable!(tasks -> users (created_by));
diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(writer_tasks -> accounts (account_id));

diesel::table! {
    user_profiles (user_id) {
        user_id -> Int8,
        phone -> Text,
        bio -> Text,
        company_name -> Text,
        industry -> Text,
        business_type -> Text,
        country -> Text,
        city -> Text,
        currency -> Text,
        dark_mode -> Bool,
        is_verified -> Bool,
        onboarding_completed -> Bool,
        ai_description_enabled -> Bool,
        ai_hashtags_enabled -> Bool,
        ai_replies_enabled -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(user_profiles -> users (user_id));

diesel::table! {
    plans (id) {
        id -> Int8,
        slug -> Text,
        name -> Text,
        price -> Numeric,
        currency -> Text,
        billing_period -> Text,
        monthly_credits -> Int4,
        max_sites -> Int4,
        max_users -> Int4,
        max_keywords -> Int4,
        max_clusters -> Int4,
        max_ideas -> Int4,
        max_ai_requests -> Int4,
        features -> Jsonb,
        is_active -> Bool,
        sort_order -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Int8,
        account_id -> Int8,
        plan_id -> Int8,
        status -> Text,
        current_period_start -> Timestamptz,
        current_period_end -> Timestamptz,
        cancel_at_period_end -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    plan_credit_grants (account_id, month) {
        account_id -> Int8,
        month -> Date,
        plan_id -> Int8,
        credits -> Int4,
        granted_at -> Timestamptz,
    }
}

diesel::table! {
    site_user_access (id) {
        id -> Int8,
        account_id -> Int8,
        user_id -> Int8,
        site_id -> Int8,
        granted_by -> Nullable<Int8>,
        granted_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(site_user_access -> sites (site_id));
diesel::joinable!(site_user_access -> users (user_id));
diesel::joinable!(accounts -> plans (plan_id));
diesel::joinable!(subscriptions -> plans (plan_id));
diesel::joinable!(subscriptions -> accounts (account_id));
diesel::joinable!(plan_credit_grants -> accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    site_user_access,
    user_profiles,
    plans,
    subscriptions,
    plan_credit_grants,
    ai_prompts,
    dead_letters,
    auth_sessions,
    author_profiles,
    clusters,
    content,
    content_ideas,
    credit_packages,
    credit_transactions,
    credit_usage_logs,
    diagnostic_pings,
    images,
    industries,
    integration_settings,
    keywords,
    login_throttles,
    odoo_records,
    odoo_sync_state,
    outbox,
    payment_events,
    payments,
    refresh_tokens,
    schedule_fires,
    schedules,
    sectors,
    seed_keywords,
    seo_audits,
    settings,
    sites,
    social_accounts,
    social_posts,
    strategies,
    task_attempts,
    tasks,
    users,
    webhook_deliveries,
    webhook_endpoints,
    worker_heartbeats,
    writer_tasks,
);
