/**
 * The server's errors in the UI's language. The server answers in English with a code from its one
 * catalogue (server/src/errors.ts); the UI says each code in Japanese too. When the server said more than
 * the code's usual words (which limit, which field, until when), that detail follows in its own words
 * rather than being lost.
 */
import { ERRORS, type ErrorCode } from "../../server/src/errors";
import { locale } from "./i18n";

const JA: Record<ErrorCode, string> = {
  validation_failed: "入力内容に誤りがあります。",
  unauthorized: "サインインしてください。",
  invalid_credentials: "ユーザー名またはパスワードが違います。",
  forbidden: "この操作は許可されていません。",
  origin_mismatch: "別のサイトからのリクエストは受け付けません。",
  not_found: "見つかりません。",
  feeder_not_found: "この給餌器は見つかりません。",
  feed_not_found: "この給餌は見つかりません。",
  token_not_found: "この API トークンは見つかりません。",
  meal_not_found: "この給餌器にこの食事はありません。",
  alert_not_found: "このアラートは見つかりません。",
  meal_not_planned: "その食事はその時刻に予定されていません。",
  pet_not_found: "このペットは見つかりません。",
  user_not_found: "このユーザーは見つかりません。",
  session_not_found: "このセッションは見つかりません。",
  username_taken: "このユーザー名はすでに使われています。",
  last_owner: "唯一のオーナーです。先に他の誰かをオーナーにしてください。",
  pending_not_found:
    "この登録待ちデバイスはもうありません（登録済み、却下済み、または最後の接続から 1 時間で期限切れ）。",
  setup_already_done: "初期設定は完了しています。サインインしてください。",
  idempotency_conflict: "この Idempotency-Key は別のリクエストに使われています。",
  safety_limit: "給餌器の安全上限を超えます。オーナーなら上限を無視して給餌できます。",
  portions_out_of_range: "この給餌器で許可された量の範囲外です。",
  unknown_profile: "不明なデバイスの種類です。",
  unknown_pet: "紐づけるペットが見つかりません。",
  device_taken: "このデバイスの給餌器はすでにあります。",
  adoption_required: "このデバイスは自身の認証情報を使います。登録待ちデバイスから登録してください。",
  external_broker_missing: "この種類には外部 MQTT ブローカー（FEEDKEEPER_MQTT_URL）が必要です。",
  schedule_unsupported: "この給餌器は給餌プランを自身で保存するため、この内容を保持できません。",
  no_issued_credentials: "この給餌器は自身の認証情報でログインします。Feedkeeper は発行しません。",
  too_many_attempts: "サインインの失敗が多すぎます。しばらく待ってからもう一度試してください。",
  too_many_streams:
    "ライブ更新の接続が多すぎます（1 ユーザー 10 件、全体で 200 件まで）。タブをいくつか閉じてください。",
  payload_too_large: "リクエストが大きすぎます。",
  backup_invalid:
    "Feedkeeper のバックアップとして使えないファイルです（破損、途中で切れている、または改変されています）。何も変更していません。",
  backup_too_new:
    "新しいバージョンの Feedkeeper で作られたバックアップです。先にこのサーバーを更新してください。何も変更していません。",
  restore_in_progress: "復元はすでに進行中です。",
  restore_unavailable:
    "このサーバーは自分で再起動して復元できません。サーバーを停止して `feedkeeper restore <ファイル>` を実行してください。",
  notification_channel_not_found: "この通知チャンネルは見つかりません。",
  too_many_notification_channels:
    "通知チャンネルは 1 世帯につき 20 件までです。先にどれかを削除してください。",
  internal: "サーバーでエラーが発生しました。",
};

/** What the UI itself says when the server could not be asked or answered oddly. */
const CLIENT = {
  en: {
    network_error: "Cannot reach the Feedkeeper server. Check your connection.",
    bad_response: "The server sent an unreadable response.",
    http: (status: number) => `The server answered with HTTP ${status}.`,
    unknown: "Something went wrong.",
  },
  ja: {
    network_error: "Feedkeeper サーバーに接続できません。ネットワークを確認してください。",
    bad_response: "サーバーの応答を読み取れませんでした。",
    http: (status: number) => `サーバーが HTTP ${status} を返しました。`,
    unknown: "問題が発生しました。",
  },
};

const isCode = (code: string): code is ErrorCode => Object.hasOwn(ERRORS, code);

/** The message to show for an error the server answered with `code` and `message`. */
export function serverErrorText(code: string, message: string): string {
  if (locale() === "en" || !isCode(code)) return message;
  return message === ERRORS[code].message ? JA[code] : `${JA[code]}（${message}）`;
}

/** The message to show when the UI could not get an answer it can read. */
export function clientErrorText(kind: "network_error" | "bad_response" | "unknown"): string {
  return CLIENT[locale()][kind];
}

export function httpErrorText(status: number): string {
  return CLIENT[locale()].http(status);
}
