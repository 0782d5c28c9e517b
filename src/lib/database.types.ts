export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[];

export type Database = {
	public: {
		Tables: {
			bot_api_keys: {
				Row: {
					bot_id: string;
					created_at: string;
					created_by: string | null;
					id: string;
					key_hash: string;
					key_prefix: string;
					last_used_at: string | null;
					name: string;
					revoked_at: string | null;
				};
				Insert: {
					bot_id: string;
					created_at?: string;
					created_by?: string | null;
					id?: string;
					key_hash: string;
					key_prefix: string;
					last_used_at?: string | null;
					name: string;
					revoked_at?: string | null;
				};
				Update: {
					bot_id?: string;
					created_at?: string;
					created_by?: string | null;
					id?: string;
					key_hash?: string;
					key_prefix?: string;
					last_used_at?: string | null;
					name?: string;
					revoked_at?: string | null;
				};
				Relationships: [
					{
						foreignKeyName: 'bot_api_keys_bot_id_fkey';
						columns: ['bot_id'];
						referencedRelation: 'bots';
						referencedColumns: ['id'];
					}
				];
			};
			bot_performance_metrics: {
				Row: {
					bot_id: string;
					bot_messages: number;
					conversations_abandoned: number;
					conversations_active: number;
					conversations_handed_off: number;
					conversations_resolved: number;
					conversations_started: number;
					cost_usd: number;
					day: string;
					day_end: string;
					day_start: string;
					failed_replies: number;
					latency_histogram: number[];
					messages: number;
					replies: number;
					response_time_count: number;
					response_time_sum_ms: number;
					rolled_up_at: string;
					tokens_in: number;
					tokens_out: number;
					unique_end_users: number;
					user_messages: number;
				};
				Insert: {
					bot_id: string;
					bot_messages?: number;
					conversations_abandoned?: number;
					conversations_active?: number;
					conversations_handed_off?: number;
					conversations_resolved?: number;
					conversations_started?: number;
					cost_usd?: number;
					day: string;
					day_end: string;
					day_start: string;
					failed_replies?: number;
					latency_histogram?: number[];
					messages?: number;
					replies?: number;
					response_time_count?: number;
					response_time_sum_ms?: number;
					rolled_up_at?: string;
					tokens_in?: number;
					tokens_out?: number;
					unique_end_users?: number;
					user_messages?: number;
				};
				Update: {
					bot_id?: string;
					bot_messages?: number;
					conversations_abandoned?: number;
					conversations_active?: number;
					conversations_handed_off?: number;
					conversations_resolved?: number;
					conversations_started?: number;
					cost_usd?: number;
					day?: string;
					day_end?: string;
					day_start?: string;
					failed_replies?: number;
					latency_histogram?: number[];
					messages?: number;
					replies?: number;
					response_time_count?: number;
					response_time_sum_ms?: number;
					rolled_up_at?: string;
					tokens_in?: number;
					tokens_out?: number;
					unique_end_users?: number;
					user_messages?: number;
				};
				Relationships: [];
			};
			bots: {
				Row: {
					channel: Database['public']['Enums']['channel'];
					created_at: string;
					id: string;
					name: string;
					organization_id: string;
					timezone: string;
				};
				Insert: {
					channel?: Database['public']['Enums']['channel'];
					created_at?: string;
					id?: string;
					name: string;
					organization_id: string;
					timezone?: string;
				};
				Update: {
					channel?: Database['public']['Enums']['channel'];
					created_at?: string;
					id?: string;
					name?: string;
					organization_id?: string;
					timezone?: string;
				};
				Relationships: [
					{
						foreignKeyName: 'bots_organization_id_fkey';
						columns: ['organization_id'];
						referencedRelation: 'organizations';
						referencedColumns: ['id'];
					}
				];
			};
			conversation_metrics: {
				Row: {
					bot_id: string;
					bot_messages: number;
					channel: Database['public']['Enums']['channel'];
					conversation_id: string;
					cost_usd: number;
					duration_seconds: number | null;
					failed_replies: number;
					first_response_ms: number | null;
					handed_off: boolean;
					messages: number;
					replies: number;
					resolved: boolean;
					response_p50_ms: number | null;
					response_p95_ms: number | null;
					rolled_up_at: string;
					started_at: string;
					status: Database['public']['Enums']['conversation_status'];
					success_rate: number | null;
					tokens_in: number;
					tokens_out: number;
					user_messages: number;
				};
				Insert: {
					bot_id: string;
					bot_messages?: number;
					channel: Database['public']['Enums']['channel'];
					conversation_id: string;
					cost_usd?: number;
					duration_seconds?: number | null;
					failed_replies?: number;
					first_response_ms?: number | null;
					handed_off?: boolean;
					messages?: number;
					replies?: number;
					resolved?: boolean;
					response_p50_ms?: number | null;
					response_p95_ms?: number | null;
					rolled_up_at?: string;
					started_at: string;
					status: Database['public']['Enums']['conversation_status'];
					success_rate?: number | null;
					tokens_in?: number;
					tokens_out?: number;
					user_messages?: number;
				};
				Update: {
					bot_id?: string;
					bot_messages?: number;
					channel?: Database['public']['Enums']['channel'];
					conversation_id?: string;
					cost_usd?: number;
					duration_seconds?: number | null;
					failed_replies?: number;
					first_response_ms?: number | null;
					handed_off?: boolean;
					messages?: number;
					replies?: number;
					resolved?: boolean;
					response_p50_ms?: number | null;
					response_p95_ms?: number | null;
					rolled_up_at?: string;
					started_at?: string;
					status?: Database['public']['Enums']['conversation_status'];
					success_rate?: number | null;
					tokens_in?: number;
					tokens_out?: number;
					user_messages?: number;
				};
				Relationships: [];
			};
			conversations: {
				Row: {
					bot_id: string;
					channel: Database['public']['Enums']['channel'];
					created_at: string;
					end_user_id: string | null;
					ended_at: string | null;
					external_id: string;
					handed_off_at: string | null;
					id: string;
					last_message_at: string | null;
					metadata: NonNullable<Json>;
					started_at: string;
					status: Database['public']['Enums']['conversation_status'];
					updated_at: string;
				};
				Insert: {
					bot_id: string;
					channel?: Database['public']['Enums']['channel'];
					created_at?: string;
					end_user_id?: string | null;
					ended_at?: string | null;
					external_id: string;
					handed_off_at?: string | null;
					id?: string;
					last_message_at?: string | null;
					metadata?: NonNullable<Json>;
					started_at: string;
					status?: Database['public']['Enums']['conversation_status'];
					updated_at?: string;
				};
				Update: {
					bot_id?: string;
					channel?: Database['public']['Enums']['channel'];
					created_at?: string;
					end_user_id?: string | null;
					ended_at?: string | null;
					external_id?: string;
					handed_off_at?: string | null;
					id?: string;
					last_message_at?: string | null;
					metadata?: NonNullable<Json>;
					started_at?: string;
					status?: Database['public']['Enums']['conversation_status'];
					updated_at?: string;
				};
				Relationships: [
					{
						foreignKeyName: 'conversations_bot_id_fkey';
						columns: ['bot_id'];
						referencedRelation: 'bots';
						referencedColumns: ['id'];
					}
				];
			};
			messages: {
				Row: {
					bot_id: string;
					content: string;
					conversation_id: string;
					cost_usd: number;
					error_code: string | null;
					external_id: string;
					id: number;
					ingested_at: string;
					intent: string | null;
					latency_bucket: number | null;
					model: string | null;
					response_time_ms: number | null;
					role: Database['public']['Enums']['message_role'];
					search_vector: unknown;
					sent_at: string;
					success: boolean | null;
					tokens_in: number;
					tokens_out: number;
				};
				Insert: {
					bot_id: string;
					content?: string;
					conversation_id: string;
					cost_usd?: number;
					error_code?: string | null;
					external_id: string;
					id?: never;
					ingested_at?: string;
					intent?: string | null;
					latency_bucket?: never;
					model?: string | null;
					response_time_ms?: number | null;
					role: Database['public']['Enums']['message_role'];
					search_vector?: never;
					sent_at: string;
					success?: boolean | null;
					tokens_in?: number;
					tokens_out?: number;
				};
				Update: {
					bot_id?: string;
					content?: string;
					conversation_id?: string;
					cost_usd?: number;
					error_code?: string | null;
					external_id?: string;
					id?: never;
					ingested_at?: string;
					intent?: string | null;
					latency_bucket?: never;
					model?: string | null;
					response_time_ms?: number | null;
					role?: Database['public']['Enums']['message_role'];
					search_vector?: never;
					sent_at?: string;
					success?: boolean | null;
					tokens_in?: number;
					tokens_out?: number;
				};
				Relationships: [
					{
						foreignKeyName: 'messages_conversation_id_bot_id_fkey';
						columns: ['conversation_id', 'bot_id'];
						referencedRelation: 'conversations';
						referencedColumns: ['id', 'bot_id'];
					}
				];
			};
			organization_invitations: {
				Row: {
					accepted_at: string | null;
					created_at: string;
					email: string;
					expires_at: string;
					id: string;
					invited_by: string | null;
					organization_id: string;
					organization_name: string;
					role: Database['public']['Enums']['member_role'];
				};
				Insert: {
					accepted_at?: string | null;
					created_at?: string;
					email: string;
					expires_at?: string;
					id?: string;
					invited_by?: string | null;
					organization_id: string;
					organization_name: string;
					role?: Database['public']['Enums']['member_role'];
				};
				Update: {
					accepted_at?: string | null;
					created_at?: string;
					email?: string;
					expires_at?: string;
					id?: string;
					invited_by?: string | null;
					organization_id?: string;
					organization_name?: string;
					role?: Database['public']['Enums']['member_role'];
				};
				Relationships: [
					{
						foreignKeyName: 'organization_invitations_organization_id_fkey';
						columns: ['organization_id'];
						referencedRelation: 'organizations';
						referencedColumns: ['id'];
					}
				];
			};
			organization_members: {
				Row: {
					created_at: string;
					organization_id: string;
					role: Database['public']['Enums']['member_role'];
					user_id: string;
				};
				Insert: {
					created_at?: string;
					organization_id: string;
					role?: Database['public']['Enums']['member_role'];
					user_id: string;
				};
				Update: {
					created_at?: string;
					organization_id?: string;
					role?: Database['public']['Enums']['member_role'];
					user_id?: string;
				};
				Relationships: [
					{
						foreignKeyName: 'organization_members_organization_id_fkey';
						columns: ['organization_id'];
						referencedRelation: 'organizations';
						referencedColumns: ['id'];
					}
				];
			};
			organizations: {
				Row: {
					created_at: string;
					created_by: string | null;
					id: string;
					is_personal: boolean;
					name: string;
					retention_days: number;
				};
				Insert: {
					created_at?: string;
					created_by?: string | null;
					id?: string;
					is_personal?: boolean;
					name: string;
					retention_days?: number;
				};
				Update: {
					created_at?: string;
					created_by?: string | null;
					id?: string;
					is_personal?: boolean;
					name?: string;
					retention_days?: number;
				};
				Relationships: [];
			};
			usage_analytics: {
				Row: {
					active_end_users: number;
					bot_id: string;
					bot_messages: number;
					conversations_abandoned: number;
					conversations_active: number;
					conversations_handed_off: number;
					conversations_resolved: number;
					conversations_started: number;
					cost_usd: number;
					failed_replies: number;
					hour_start: string;
					latency_histogram: number[];
					messages: number;
					replies: number;
					response_time_count: number;
					response_time_sum_ms: number;
					rolled_up_at: string;
					tokens_in: number;
					tokens_out: number;
					user_messages: number;
				};
				Insert: {
					active_end_users?: number;
					bot_id: string;
					bot_messages?: number;
					conversations_abandoned?: number;
					conversations_active?: number;
					conversations_handed_off?: number;
					conversations_resolved?: number;
					conversations_started?: number;
					cost_usd?: number;
					failed_replies?: number;
					hour_start: string;
					latency_histogram?: number[];
					messages?: number;
					replies?: number;
					response_time_count?: number;
					response_time_sum_ms?: number;
					rolled_up_at?: string;
					tokens_in?: number;
					tokens_out?: number;
					user_messages?: number;
				};
				Update: {
					active_end_users?: number;
					bot_id?: string;
					bot_messages?: number;
					conversations_abandoned?: number;
					conversations_active?: number;
					conversations_handed_off?: number;
					conversations_resolved?: number;
					conversations_started?: number;
					cost_usd?: number;
					failed_replies?: number;
					hour_start?: string;
					latency_histogram?: number[];
					messages?: number;
					replies?: number;
					response_time_count?: number;
					response_time_sum_ms?: number;
					rolled_up_at?: string;
					tokens_in?: number;
					tokens_out?: number;
					user_messages?: number;
				};
				Relationships: [];
			};
			usage_breakdowns: {
				Row: {
					bot_id: string;
					cost_usd: number;
					dimension: string;
					failed_replies: number;
					hour_start: string;
					latency_histogram: number[];
					messages: number;
					replies: number;
					response_time_count: number;
					response_time_sum_ms: number;
					rolled_up_at: string;
					tokens_in: number;
					tokens_out: number;
					value: string;
				};
				Insert: {
					bot_id: string;
					cost_usd?: number;
					dimension: string;
					failed_replies?: number;
					hour_start: string;
					latency_histogram?: number[];
					messages?: number;
					replies?: number;
					response_time_count?: number;
					response_time_sum_ms?: number;
					rolled_up_at?: string;
					tokens_in?: number;
					tokens_out?: number;
					value: string;
				};
				Update: {
					bot_id?: string;
					cost_usd?: number;
					dimension?: string;
					failed_replies?: number;
					hour_start?: string;
					latency_histogram?: number[];
					messages?: number;
					replies?: number;
					response_time_count?: number;
					response_time_sum_ms?: number;
					rolled_up_at?: string;
					tokens_in?: number;
					tokens_out?: number;
					value?: string;
				};
				Relationships: [];
			};
		};
		Views: {
			[_ in never]: never;
		};
		Functions: {
			accept_invitation: { Args: { p_invitation_id: string }; Returns: string };
			bot_breakdown: {
				Args: {
					p_bot_id: string;
					p_dimension: string;
					p_from: string;
					p_to: string;
				};
				Returns: {
					avg_response_ms: number;
					cost_usd: number;
					failed_replies: number;
					messages: number;
					p95_response_ms: number;
					replies: number;
					success_rate: number;
					tokens_in: number;
					tokens_out: number;
					value: string;
				}[];
			};
			bot_duration_distribution: {
				Args: { p_bot_id: string; p_from: string; p_to: string };
				Returns: {
					band: number;
					conversations: number;
					label: string;
					max_seconds: number;
					min_seconds: number;
				}[];
			};
			bot_summary: {
				Args: { p_bot_id: string; p_from: string; p_to: string };
				Returns: {
					active_conversations: number;
					avg_response_ms: number;
					conversations: number;
					cost_per_resolved_usd: number;
					cost_usd: number;
					handed_off_conversations: number;
					handoff_rate: number;
					messages: number;
					messages_per_hour: number;
					p50_response_ms: number;
					p95_response_ms: number;
					p99_response_ms: number;
					period: string;
					period_end: string;
					period_start: string;
					resolved_conversations: number;
					success_rate: number;
					tokens_in: number;
					tokens_out: number;
				}[];
			};
			bot_usage_series: {
				Args: {
					p_bot_id: string;
					p_bucket?: string;
					p_from: string;
					p_to: string;
				};
				Returns: {
					avg_response_ms: number;
					bucket: string;
					bucket_start: string;
					conversations: number;
					cost_usd: number;
					failed_replies: number;
					handed_off_conversations: number;
					messages: number;
					p50_response_ms: number;
					p95_response_ms: number;
					p99_response_ms: number;
					replies: number;
					resolved_conversations: number;
					success_rate: number;
					tokens_in: number;
					tokens_out: number;
				}[];
			};
			count_explored_conversations: {
				Args: {
					p_bot_id: string;
					p_by?: string;
					p_channel?: string;
					p_from: string;
					p_handoff?: boolean;
					p_intent?: string;
					p_max_duration_seconds?: number;
					p_max_response_ms?: number;
					p_min_duration_seconds?: number;
					p_min_response_ms?: number;
					p_query?: string;
					p_status?: string;
					p_to: string;
				};
				Returns: number;
			};
			create_bot_api_key: {
				Args: { p_bot_id: string; p_name: string };
				Returns: {
					id: string;
					key: string;
					key_prefix: string;
				}[];
			};
			decline_invitation: {
				Args: { p_invitation_id: string };
				Returns: undefined;
			};
			explore_conversations: {
				Args: {
					p_after_id?: string;
					p_after_key?: string;
					p_bot_id: string;
					p_by?: string;
					p_channel?: string;
					p_dir?: string;
					p_from: string;
					p_handoff?: boolean;
					p_intent?: string;
					p_limit?: number;
					p_max_duration_seconds?: number;
					p_max_response_ms?: number;
					p_min_duration_seconds?: number;
					p_min_response_ms?: number;
					p_query?: string;
					p_sort?: string;
					p_status?: string;
					p_to: string;
				};
				Returns: {
					channel: string;
					cost_usd: number;
					duration_seconds: number;
					end_user_id: string;
					ended_at: string;
					external_id: string;
					first_response_ms: number;
					handed_off_at: string;
					id: string;
					last_message_at: string;
					messages: number;
					response_p50_ms: number;
					response_p95_ms: number;
					sort_key: string;
					started_at: string;
					status: string;
					success_rate: number;
					tokens_in: number;
					tokens_out: number;
				}[];
			};
			export_conversations: {
				Args: {
					p_after_id?: string;
					p_after_started_at?: string;
					p_bot_id: string;
					p_channel?: string;
					p_from: string;
					p_limit?: number;
					p_query?: string;
					p_status?: string;
					p_to: string;
				};
				Returns: {
					channel: Database['public']['Enums']['channel'];
					cost_usd: number;
					duration_seconds: number;
					end_user_id: string;
					ended_at: string;
					external_id: string;
					first_response_ms: number;
					handed_off_at: string;
					id: string;
					last_message_at: string;
					messages: number;
					response_p50_ms: number;
					response_p95_ms: number;
					started_at: string;
					status: Database['public']['Enums']['conversation_status'];
					success_rate: number;
					tokens_in: number;
					tokens_out: number;
				}[];
			};
			export_daily_metrics: {
				Args: { p_bot_id: string; p_from: string; p_to: string };
				Returns: {
					avg_response_ms: number;
					conversations: number;
					cost_usd: number;
					day: string;
					day_start: string;
					failed_replies: number;
					handed_off_conversations: number;
					messages: number;
					p50_response_ms: number;
					p95_response_ms: number;
					p99_response_ms: number;
					replies: number;
					resolved_conversations: number;
					success_rate: number;
					tokens_in: number;
					tokens_out: number;
				}[];
			};
			export_messages: {
				Args: {
					p_after_id?: number;
					p_after_sent_at?: string;
					p_bot_id: string;
					p_conversation_id?: string;
					p_from: string;
					p_limit?: number;
					p_query?: string;
					p_to: string;
				};
				Returns: {
					content: string;
					conversation_external_id: string;
					conversation_id: string;
					cost_usd: number;
					error_code: string;
					external_id: string;
					id: number;
					intent: string;
					model: string;
					response_time_ms: number;
					role: Database['public']['Enums']['message_role'];
					sent_at: string;
					success: boolean;
					tokens_in: number;
					tokens_out: number;
				}[];
			};
			invite_member: {
				Args: { p_email: string; p_organization_id: string; p_role?: string };
				Returns: string;
			};
			leave_organization: {
				Args: { p_organization_id: string };
				Returns: undefined;
			};
			organization_member_list: {
				Args: { p_organization_id: string };
				Returns: {
					email: string;
					full_name: string;
					joined_at: string;
					role: Database['public']['Enums']['member_role'];
					user_id: string;
				}[];
			};
			organization_overview: {
				Args: { p_now?: string; p_organization_id: string };
				Returns: {
					bot_id: string;
					bot_name: string;
					channel: string;
					daily_messages: number[];
					daily_starts: string[];
					messages: number;
					p95_response_ms: number;
					period_end: string;
					period_start: string;
					previous_messages: number;
					previous_p95_response_ms: number;
					previous_success_rate: number;
					success_rate: number;
					timezone: string;
				}[];
			};
			search_conversations: {
				Args: {
					p_bot_id: string;
					p_channel?: string;
					p_from: string;
					p_limit?: number;
					p_max_duration_seconds?: number;
					p_max_response_ms?: number;
					p_min_duration_seconds?: number;
					p_min_response_ms?: number;
					p_offset?: number;
					p_query?: string;
					p_status?: string;
					p_to: string;
				};
				Returns: {
					channel: Database['public']['Enums']['channel'];
					cost_usd: number;
					duration_seconds: number;
					end_user_id: string;
					ended_at: string;
					external_id: string;
					first_response_ms: number;
					handed_off_at: string;
					id: string;
					last_message_at: string;
					messages: number;
					response_p50_ms: number;
					response_p95_ms: number;
					started_at: string;
					status: Database['public']['Enums']['conversation_status'];
					success_rate: number;
					tokens_in: number;
					tokens_out: number;
					total_count: number;
				}[];
			};
		};
		Enums: {
			channel: 'web' | 'whatsapp' | 'messenger' | 'telegram' | 'slack' | 'sms' | 'voice' | 'api';
			conversation_status: 'active' | 'completed' | 'abandoned' | 'handed_off';
			member_role: 'owner' | 'admin' | 'viewer';
			message_role: 'user' | 'bot' | 'agent' | 'system';
		};
		CompositeTypes: {
			[_ in never]: never;
		};
	};
};

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>;

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, 'public'>];

export type Tables<
	DefaultSchemaTableNameOrOptions extends
		| keyof (DefaultSchema['Tables'] & DefaultSchema['Views'])
		| { schema: keyof DatabaseWithoutInternals },
	TableName extends (DefaultSchemaTableNameOrOptions extends {
		schema: keyof DatabaseWithoutInternals;
	}
		? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Tables'] &
				DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Views'])
		: never) = never
> = DefaultSchemaTableNameOrOptions extends {
	schema: keyof DatabaseWithoutInternals;
}
	? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Tables'] &
			DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Views'])[TableName] extends {
			Row: infer R;
		}
		? R
		: never
	: DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema['Tables'] & DefaultSchema['Views'])
		? (DefaultSchema['Tables'] & DefaultSchema['Views'])[DefaultSchemaTableNameOrOptions] extends {
				Row: infer R;
			}
			? R
			: never
		: never;

export type TablesInsert<
	DefaultSchemaTableNameOrOptions extends
		keyof DefaultSchema['Tables'] | { schema: keyof DatabaseWithoutInternals },
	TableName extends (DefaultSchemaTableNameOrOptions extends {
		schema: keyof DatabaseWithoutInternals;
	}
		? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Tables']
		: never) = never
> = DefaultSchemaTableNameOrOptions extends {
	schema: keyof DatabaseWithoutInternals;
}
	? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Tables'][TableName] extends {
			Insert: infer I;
		}
		? I
		: never
	: DefaultSchemaTableNameOrOptions extends keyof DefaultSchema['Tables']
		? DefaultSchema['Tables'][DefaultSchemaTableNameOrOptions] extends {
				Insert: infer I;
			}
			? I
			: never
		: never;

export type TablesUpdate<
	DefaultSchemaTableNameOrOptions extends
		keyof DefaultSchema['Tables'] | { schema: keyof DatabaseWithoutInternals },
	TableName extends (DefaultSchemaTableNameOrOptions extends {
		schema: keyof DatabaseWithoutInternals;
	}
		? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Tables']
		: never) = never
> = DefaultSchemaTableNameOrOptions extends {
	schema: keyof DatabaseWithoutInternals;
}
	? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Tables'][TableName] extends {
			Update: infer U;
		}
		? U
		: never
	: DefaultSchemaTableNameOrOptions extends keyof DefaultSchema['Tables']
		? DefaultSchema['Tables'][DefaultSchemaTableNameOrOptions] extends {
				Update: infer U;
			}
			? U
			: never
		: never;

export type Enums<
	DefaultSchemaEnumNameOrOptions extends
		keyof DefaultSchema['Enums'] | { schema: keyof DatabaseWithoutInternals },
	EnumName extends (DefaultSchemaEnumNameOrOptions extends {
		schema: keyof DatabaseWithoutInternals;
	}
		? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions['schema']]['Enums']
		: never) = never
> = DefaultSchemaEnumNameOrOptions extends {
	schema: keyof DatabaseWithoutInternals;
}
	? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions['schema']]['Enums'][EnumName]
	: DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema['Enums']
		? DefaultSchema['Enums'][DefaultSchemaEnumNameOrOptions]
		: never;

export type CompositeTypes<
	PublicCompositeTypeNameOrOptions extends
		keyof DefaultSchema['CompositeTypes'] | { schema: keyof DatabaseWithoutInternals },
	CompositeTypeName extends (PublicCompositeTypeNameOrOptions extends {
		schema: keyof DatabaseWithoutInternals;
	}
		? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions['schema']]['CompositeTypes']
		: never) = never
> = PublicCompositeTypeNameOrOptions extends {
	schema: keyof DatabaseWithoutInternals;
}
	? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions['schema']]['CompositeTypes'][CompositeTypeName]
	: PublicCompositeTypeNameOrOptions extends keyof DefaultSchema['CompositeTypes']
		? DefaultSchema['CompositeTypes'][PublicCompositeTypeNameOrOptions]
		: never;

export const Constants = {
	public: {
		Enums: {
			channel: ['web', 'whatsapp', 'messenger', 'telegram', 'slack', 'sms', 'voice', 'api'],
			conversation_status: ['active', 'completed', 'abandoned', 'handed_off'],
			member_role: ['owner', 'admin', 'viewer'],
			message_role: ['user', 'bot', 'agent', 'system']
		}
	}
} as const;
