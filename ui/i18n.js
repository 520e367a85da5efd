// Japanese first, English on request. The choice is a preference, not a
// secret, so it is kept in localStorage (the token is not).

const LANG = 'nayose.lang';

const ja = {
  'app.title': '名寄せ — 審査',
  'app.skip': '本文へ移動',
  'nav.label': 'メインメニュー',
  'nav.queue': '審査キュー',
  'nav.search': 'レコード検索',
  'nav.audit': '監査ログ',
  'lang.switch': 'English',
  'lang.switch.label': 'Switch to English',
  'signout': 'サインアウト',
  'role.viewer': '閲覧者',
  'role.ingest': '取込',
  'role.steward': '審査担当',
  'role.admin': '管理者',
  'signin.title': 'サインイン',
  'signin.lead': 'API トークンを入力してください。トークンはこのタブを閉じると消えます。',
  'signin.token': 'API トークン',
  'signin.submit': 'サインイン',
  'signin.failed': 'サインインできません: {message}',
  'signin.expired': 'トークンが無効です。もう一度サインインしてください。',
  'loading': '読み込み中…',
  'error': 'エラー: {message}',
  'forbidden': 'この画面を見る権限がありません。',
  'notfound': '見つかりません。',
  'more': 'さらに表示',
  'none': '—',
  'cancel': 'キャンセル',
  'reason': '理由(任意)',
  'queue.title': '審査キュー',
  'queue.counts': '未決の提案',
  'queue.count.band': '{band}: {n} 件',
  'queue.filters': '絞り込み',
  'queue.status': '状態',
  'queue.band': '帯',
  'queue.source': '発生元',
  'queue.assignee': '担当者',
  'queue.assignee.hint': '名前で絞り込み',
  'queue.sort': '並び順',
  'queue.sort.uncertainty': '不確かな順',
  'queue.sort.informative': '判定がモデルの学習に役立つ順',
  'queue.sort.score': 'スコア順',
  'queue.sort.id': '古い順',
  'queue.apply': '絞り込む',
  'queue.mine': '自分の担当',
  'all': 'すべて',
  'queue.empty': '該当する提案はありません。',
  'estimates.title': 'ラベルから見たモデルの精度',
  'estimates.labels': '審査の判断（ラベル）: 一致 {matches} 件・不一致 {non_matches} 件。審査した組から数えた推定です。',
  'estimates.value': '{what}: {value}（95%区間 {low}〜{high}、{n} 組から）',
  'estimates.none': '{what}: 数えるラベルがまだありません',
  'estimates.auto_merge_precision': '自動統合の適合率',
  'estimates.review_precision': '審査帯以上の適合率',
  'estimates.auto_merge_recall': '自動統合の再現率',
  'estimates.review_recall': '審査帯以上の再現率',
  'queue.col.id': '提案',
  'queue.col.records': 'レコード',
  'queue.col.score': 'スコア(ビット)',
  'queue.col.probability': '確率',
  'queue.col.band': '帯',
  'queue.col.source': '発生元',
  'queue.col.status': '状態',
  'queue.col.assignee': '担当者',
  'queue.col.actions': '操作',
  'queue.open': '開く',
  'queue.open.label': '提案 {id} を開く',
  'queue.claim': '担当する',
  'queue.claim.label': '提案 {id} を担当する',
  'queue.claimed': '提案 {id} を {name} の担当にしました。',
  'queue.unassign': '担当を外す',
  'queue.unassign.label': '提案 {id} の担当を外す',
  'queue.unassigned': '提案 {id} の担当を外しました。',
  'bulk.title': '一括承認',
  'bulk.min': 'スコア下限(ビット)',
  'bulk.band': '対象の帯',
  'bulk.submit': 'スコア以上を一括承認…',
  'bulk.confirm.title': '一括承認の確認',
  'bulk.confirm': 'スコア {min} ビット以上の未決提案 {n} 件を承認します。よろしいですか?',
  'bulk.confirm.ok': '{n} 件を承認する',
  'bulk.nothing': 'スコア {min} ビット以上の未決提案はありません。',
  'bulk.done': '{n} 件を承認しました(スキップ {skipped} 件)。',
  'status.open': '未決',
  'status.deferred': '保留',
  'status.approved': '承認済み',
  'status.rejected': '却下済み',
  'status.superseded': '取り下げ',
  'band.match': '自動統合',
  'band.review': '要審査',
  'source.batch': '一括取込',
  'source.live': '随時登録',
  'proposal.title': '提案 {id}',
  'proposal.back': 'キューへ戻る',
  'proposal.summary': '確率 {p} ・ スコア {score} ・ {band} ・ {status}',
  'proposal.assignee': '担当: {name}',
  'proposal.compare': '2 件のレコードの比較',
  'proposal.field': '項目',
  'proposal.recordA': 'レコード A',
  'proposal.recordB': 'レコード B',
  'proposal.golden': '統合後の値',
  'proposal.winner': '採用',
  'proposal.winner.label': '{field}: {side} の値を採用',
  'proposal.winner.other': '他のメンバー',
  'proposal.raw': '入力値',
  'proposal.same': '一致',
  'proposal.differs': '相違',
  'proposal.explanation': '判定の根拠(重み)',
  'proposal.explanation.lead': '重みの単位はビット(オッズの log2)です。右に伸びる棒は同一人物・同一企業である根拠、左は別である根拠で、事前確率と各比較の重みを足したものがスコアです。',
  'proposal.prior': '事前確率',
  'proposal.zero': '重み 0 の比較',
  'proposal.for': '一致の根拠',
  'proposal.against': '不一致の根拠',
  'proposal.actions': '判断',
  'proposal.approve': '承認',
  'proposal.reject': '却下',
  'proposal.defer': '保留',
  'proposal.next': '次へ',
  'proposal.reopen': '再審査に戻す',
  'proposal.claim': '担当する',
  'proposal.reason': '理由(任意)',
  'proposal.shortcuts': 'キーボード: a 承認 ・ r 却下 ・ d 保留 ・ n 次へ',
  'proposal.decided.approve': '提案 {id} を承認しました。統合先: {entity}',
  'proposal.decided.reject': '提案 {id} を却下しました。',
  'proposal.decided.defer': '提案 {id} を保留にしました。',
  'proposal.decided.reopen': '提案 {id} を未決に戻しました。',
  'proposal.conflict': '他の担当者が先に更新しました(現在: {status})。最新の内容を表示します。',
  'proposal.notpending': 'この提案は{status}です。',
  'proposal.decidedby': '{by} が {at} に決定',
  'proposal.entity': 'エンティティ {id} を見る',
  'proposal.entity.of': '統合先のエンティティを見る',
  'proposal.nonext': '次の未決提案はありません。',
  'proposal.readonly': '閲覧のみ(個人情報は伏せ字で表示しています)',
  'entity.title': 'エンティティ {id}',
  'entity.merged': '{from} は {into} に統合されています。',
  'entity.golden': 'ゴールデンレコード',
  'entity.value': '値',
  'entity.from': '採用元',
  'entity.rule': '規則',
  'entity.members': 'メンバー({n} 件)',
  'entity.member.id': 'レコード',
  'entity.member.source': '取込元',
  'entity.member.summary': '内容',
  'entity.split': '分離',
  'entity.split.label': 'レコード {id} を分離',
  'entity.split.title': 'メンバーの分離',
  'entity.split.confirm': 'レコード {id} をこのエンティティから新しいエンティティへ分離します。',
  'entity.split.ok': '分離する',
  'entity.split.done': 'レコード {id} を新しいエンティティ {to} へ分離しました。',
  'entity.history': '履歴',
  'entity.history.at': '日時',
  'entity.history.actor': '実行者',
  'entity.history.action': '操作',
  'entity.history.detail': '内容',
  'rule.manual': '手動選択',
  'rule.restrictive': '制限優先',
  'rule.most_complete': '最も完全',
  'rule.most_recent': '最新',
  'rule.most_frequent': '最頻',
  'rule.source_priority': '取込元優先',
  'search.title': 'レコード検索',
  'search.lead': '開示請求・削除請求(個人情報保護法)への対応に。氏名、カナ、電話番号、メールアドレス、住所で探せます。',
  'search.q': '検索語',
  'search.submit': '検索',
  'search.results': '{n} 件',
  'search.empty': '該当するレコードはありません。',
  'search.entity': '所属エンティティ',
  'search.erase': '消去',
  'search.erase.label': 'レコード {id} を消去',
  'search.erase.title': 'レコードの消去',
  'search.erase.confirm': 'レコード {id} を保存データ・索引・提案・ゴールデンレコードから消去します。取り消せません。',
  'search.erase.ok': '消去する',
  'search.erase.done': 'レコード {id} を消去しました。',
  'audit.title': '監査ログ',
  'audit.actor': '実行者',
  'audit.action': '操作',
  'audit.subject': '対象',
  'audit.subject.hint': '例: proposal:3, entity:E0000001, record:R0000001',
  'audit.apply': '絞り込む',
  'audit.empty': '該当する記録はありません。',
  'audit.col.seq': '番号',
  'audit.col.at': '日時',
  'audit.col.actor': '実行者',
  'audit.col.action': '操作',
  'audit.col.subject': '対象',
  'audit.col.reason': '理由',
  'audit.col.change': '変更',
  'field.id': 'ID',
  'field.company_name': '会社名',
  'field.company_kana': '会社名カナ',
  'field.person_name': '氏名',
  'field.person_kana': 'フリガナ',
  'field.postal_code': '郵便番号',
  'field.address': '住所',
  'field.phone': '電話番号',
  'field.fax': 'FAX',
  'field.email': 'メールアドレス',
  'field.birth_date': '生年月日',
  'field.corporate_number': '法人番号',
  'field.gender': '性別',
  'field.contact_ok': '連絡可否',
  'field.unsubscribed': '配信停止',
  'title.page': '{page} — 名寄せ',
  'title.error': 'エラー',
  'error.back': '審査キューへ戻る',
  'err.invalid_json': 'サーバーが要求を読めませんでした(形式が正しくありません)。',
  'err.invalid_request': '入力内容が正しくありません。',
  'err.unknown_field': 'ルールにない項目が含まれています。',
  'err.unsupported_media_type': 'サーバーが受け付けない形式で送信されました。',
  'err.payload_too_large': '送信したデータが大きすぎます。',
  'err.request_timeout': '送信が時間内に終わりませんでした。もう一度お試しください。',
  'err.uri_too_long': '要求が長すぎます。検索語を短くしてください。',
  'err.unauthorized': 'API トークンが正しくないか、無効になっています。',
  'err.forbidden': 'この操作を行う権限がありません。',
  'err.not_found': '見つかりません。削除されたか、別のエンティティに統合された可能性があります。',
  'err.method_not_allowed': 'サーバーがこの操作を受け付けませんでした。',
  'err.record_exists': '同じ ID のレコードがすでにあります。',
  'err.conflict': '他の変更と競合したため実行できませんでした。画面を読み込み直してください。',
  'err.idempotency_mismatch': '同じ要求キーで別の内容がすでに送られています。',
  'err.no_model': '照合モデルがまだありません。学習が終わるまでお待ちください。',
  'err.internal': 'サーバー内部でエラーが発生しました(詳細はサーバーのログにあります)。',
  'err.network': 'サーバーに接続できません。ネットワークを確認して、もう一度お試しください。',
  'err.unknown': '予期しないエラーが発生しました(コード: {code})。',
  'numbers.title': '数値の見方',
  'numbers.score': 'スコアは一致の重みで、単位はビット(同一顧客であるオッズの log2)です。1 ビット増えるごとにオッズが 2 倍になり、0 ビットで五分五分です。',
  'numbers.probability': '確率はスコアを「同一顧客である確率」(%)に直したものです。',
  'numbers.bands': '帯の境目: 確率 {match} 以上(スコア {matchScore} ビット以上)は自動統合、確率 {review} 以上(スコア {reviewScore} ビット以上)は要審査です。',
  'numbers.bands.calibrated': '審査の判断 {n} 組から調整した境目です。',
  'numbers.bands.rules': '帯の境目(自動統合・要審査になる確率)はルールファイルの match_threshold と review_threshold で決まります。サーバーがその値を返さないため、ここには表示できません。',
  'unit.bits': '{n} ビット',
  'proposal.score': 'スコア {score}',
  'proposal.probability': '確率 {p}',
  'proposal.total': 'スコア {score}(事前確率と各比較の重みの合計)→ 確率 {p}',
  'aspect.branch': '支店・事業所',
  'aspect.legal_form': '法人格',
  'level.exact': '一致',
  'level.close': '近い',
  'level.similar': '似ている',
  'level.extended': '一方に語が多い(別組織の可能性)',
  'level.distinct': 'それぞれ別の語(別組織)',
  'level.different': '相違',
  'level.same': '同じ',
  'level.one_sided': '片方のみ',
  'level.given_only': '名のみ一致',
  'level.surname_only': '姓のみ一致',
  'level.same_block': '番地まで一致',
  'level.same_town': '町域まで一致',
  'level.same_city': '市区町村まで一致',
  'level.same_prefecture': '都道府県のみ一致',
  'level.same_area': '上 3 桁が一致',
  'level.other_office': '別の事業所の個別番号',
  'level.same_local': '@ より前が一致',
  'level.swapped': '月と日が逆',
  'level.one_off': '1 文字違い',
  'level.missing': '片方または両方が空',
  'level.unknown': '不明',
  'action.record.create': 'レコード登録',
  'action.record.update': 'レコード更新',
  'action.record.delete': 'レコード削除',
  'action.record.erase': 'レコード消去',
  'action.record.import': 'レコード取込',
  'action.entity.auto_merge': '自動統合',
  'action.entity.merge': '統合',
  'action.entity.split': '分離',
  'action.proposal.approve': '提案の承認',
  'action.proposal.reject': '提案の却下',
  'action.proposal.defer': '提案の保留',
  'action.proposal.reopen': '提案を未決に戻す',
  'action.proposal.assign': '担当の変更',
  'action.proposal.rescore': '再採点',
  'action.model.train': 'モデルの学習',
  'action.labels.import': 'ラベルの取込',
  'action.token.create': 'トークンの発行',
  'action.job.cancel': 'ジョブの中止',
  'action.job.resume': 'ジョブの再開',
  'history.created': '作成',
  'history.auto_merge': '自動統合',
  'history.merge': '統合',
  'history.split': '分離',
  'history.member_deleted': 'メンバーの削除',
  'history.member_erased': 'メンバーの消去',
  'subject.proposal': '提案 {id}',
  'subject.entity': 'エンティティ {id}',
  'subject.record': 'レコード {id}',
  'subject.job': 'ジョブ {id}',
  'subject.token': 'トークン {id}',
  'subject.model': 'モデル',
  'subject.labels': 'ラベル',
  'detail.merged': '統合元',
  'detail.into': '統合先',
  'detail.records': 'レコード',
  'detail.record': 'レコード',
  'detail.because': '理由',
  'detail.from': '分離元',
  'detail.to': '分離先',
  'detail.job': 'ジョブ',
  'detail.matched': '一致したレコード',
  'detail.score': 'スコア',
  'detail.status': '状態',
  'detail.probability': '確率',
  'reason.proposal': '提案 {id}',
  'reason.import': '取込ジョブ {id}',
  'reason.merged_by': '{by} による統合',
  'reason.on_behalf': '{name} の登録による',
  'reason.bulk': '一括承認(スコア {min} 以上)',
  'reason.below_review': '新しいモデルでは要審査の帯を下回ったため',
  'reason.auto_merge': '新しいモデルでは自動統合の帯に入ったため',
  'reason.auto_merge_kept': '新しいモデルでは自動統合の帯だが、2 つのエンティティのつながりが薄いため未決のまま(連鎖統合の防止)',
  'reason.server_stopped': 'ジョブの実行中にサーバーが停止したため',
  'search.results.capped': '{n} 件以上(先頭の {n} 件を表示)',
  'reason.required': '理由(必須)',
  'audit.action.all': 'すべての操作',
  'actor.system': 'システム',
};

const en = {
  'app.title': 'nayose — review',
  'app.skip': 'Skip to content',
  'nav.label': 'Main menu',
  'nav.queue': 'Review queue',
  'nav.search': 'Search records',
  'nav.audit': 'Audit log',
  'lang.switch': '日本語',
  'lang.switch.label': '日本語に切り替え',
  'signout': 'Sign out',
  'role.viewer': 'viewer',
  'role.ingest': 'ingest',
  'role.steward': 'steward',
  'role.admin': 'admin',
  'signin.title': 'Sign in',
  'signin.lead': 'Enter your API token. It is forgotten when this tab closes.',
  'signin.token': 'API token',
  'signin.submit': 'Sign in',
  'signin.failed': 'Cannot sign in: {message}',
  'signin.expired': 'The token is no longer valid. Please sign in again.',
  'loading': 'Loading…',
  'error': 'Error: {message}',
  'forbidden': 'Your role may not see this page.',
  'notfound': 'Not found.',
  'more': 'Show more',
  'none': '—',
  'cancel': 'Cancel',
  'reason': 'Reason (optional)',
  'queue.title': 'Review queue',
  'queue.counts': 'Pending proposals',
  'queue.count.band': '{band}: {n}',
  'queue.filters': 'Filters',
  'queue.status': 'Status',
  'queue.band': 'Band',
  'queue.source': 'Source',
  'queue.assignee': 'Assignee',
  'queue.assignee.hint': 'filter by name',
  'queue.sort': 'Order',
  'queue.sort.uncertainty': 'Most uncertain first',
  'queue.sort.informative': 'Most informative first (teaches the model most)',
  'queue.sort.score': 'Highest score first',
  'queue.sort.id': 'Oldest first',
  'queue.apply': 'Apply',
  'queue.mine': 'Mine',
  'all': 'All',
  'queue.empty': 'No proposals match.',
  'estimates.title': 'The model as the labels see it',
  'estimates.labels': 'Stewards\' decisions (labels): {matches} match, {non_matches} not. Estimates counted on the reviewed pairs.',
  'estimates.value': '{what}: {value} (95% interval {low}–{high}, from {n} pairs)',
  'estimates.none': '{what}: no labels to count yet',
  'estimates.auto_merge_precision': 'Auto-merge precision',
  'estimates.review_precision': 'Precision at or above the review band',
  'estimates.auto_merge_recall': 'Auto-merge recall',
  'estimates.review_recall': 'Recall at or above the review band',
  'queue.col.id': 'Proposal',
  'queue.col.records': 'Records',
  'queue.col.score': 'Score (bits)',
  'queue.col.probability': 'Probability',
  'queue.col.band': 'Band',
  'queue.col.source': 'Source',
  'queue.col.status': 'Status',
  'queue.col.assignee': 'Assignee',
  'queue.col.actions': 'Actions',
  'queue.open': 'Open',
  'queue.open.label': 'Open proposal {id}',
  'queue.claim': 'Claim',
  'queue.claim.label': 'Claim proposal {id}',
  'queue.claimed': 'Proposal {id} is assigned to {name}.',
  'queue.unassign': 'Unassign',
  'queue.unassign.label': 'Unassign proposal {id}',
  'queue.unassigned': 'Proposal {id} is unassigned.',
  'bulk.title': 'Bulk approval',
  'bulk.min': 'Minimum score (bits)',
  'bulk.band': 'Band',
  'bulk.submit': 'Approve all at or above…',
  'bulk.confirm.title': 'Confirm bulk approval',
  'bulk.confirm': 'Approve {n} open proposals with a score of {min} bits or more?',
  'bulk.confirm.ok': 'Approve {n}',
  'bulk.nothing': 'No open proposals have a score of {min} bits or more.',
  'bulk.done': 'Approved {n} proposals ({skipped} skipped).',
  'status.open': 'open',
  'status.deferred': 'deferred',
  'status.approved': 'approved',
  'status.rejected': 'rejected',
  'status.superseded': 'superseded',
  'band.match': 'match',
  'band.review': 'review',
  'source.batch': 'batch',
  'source.live': 'live',
  'proposal.title': 'Proposal {id}',
  'proposal.back': 'Back to the queue',
  'proposal.summary': 'probability {p} · score {score} · {band} · {status}',
  'proposal.assignee': 'assigned to {name}',
  'proposal.compare': 'The two records compared',
  'proposal.field': 'Field',
  'proposal.recordA': 'Record A',
  'proposal.recordB': 'Record B',
  'proposal.golden': 'Merged value',
  'proposal.winner': 'Keep',
  'proposal.winner.label': '{field}: keep {side}',
  'proposal.winner.other': 'another member',
  'proposal.raw': 'as entered',
  'proposal.same': 'same',
  'proposal.differs': 'differs',
  'proposal.explanation': 'Why (weights)',
  'proposal.explanation.lead': 'Weights are in bits (log2 of the odds). Bars to the right are evidence for one customer, to the left against; the prior plus every weight is the score.',
  'proposal.prior': 'prior',
  'proposal.zero': 'comparisons weighing nothing',
  'proposal.for': 'for',
  'proposal.against': 'against',
  'proposal.actions': 'Decision',
  'proposal.approve': 'Approve',
  'proposal.reject': 'Reject',
  'proposal.defer': 'Defer',
  'proposal.next': 'Next',
  'proposal.reopen': 'Reopen',
  'proposal.claim': 'Claim',
  'proposal.reason': 'Reason (optional)',
  'proposal.shortcuts': 'Keys: a approve · r reject · d defer · n next',
  'proposal.decided.approve': 'Proposal {id} approved. Merged into {entity}.',
  'proposal.decided.reject': 'Proposal {id} rejected.',
  'proposal.decided.defer': 'Proposal {id} deferred.',
  'proposal.decided.reopen': 'Proposal {id} is open again.',
  'proposal.conflict': 'Someone else changed this proposal first (now: {status}). Showing it as it is.',
  'proposal.notpending': 'This proposal is {status}.',
  'proposal.decidedby': 'decided by {by} at {at}',
  'proposal.entity': 'See entity {id}',
  'proposal.entity.of': 'See the merged entity',
  'proposal.nonext': 'No more open proposals.',
  'proposal.readonly': 'Read only (personal data is masked)',
  'entity.title': 'Entity {id}',
  'entity.merged': '{from} was merged into {into}.',
  'entity.golden': 'Golden record',
  'entity.value': 'Value',
  'entity.from': 'From',
  'entity.rule': 'Rule',
  'entity.members': 'Members ({n})',
  'entity.member.id': 'Record',
  'entity.member.source': 'Source',
  'entity.member.summary': 'Content',
  'entity.split': 'Split off',
  'entity.split.label': 'Split record {id} off',
  'entity.split.title': 'Split a member off',
  'entity.split.confirm': 'Move record {id} out of this entity into a new one.',
  'entity.split.ok': 'Split',
  'entity.split.done': 'Record {id} moved to the new entity {to}.',
  'entity.history': 'History',
  'entity.history.at': 'When',
  'entity.history.actor': 'Who',
  'entity.history.action': 'What',
  'entity.history.detail': 'Detail',
  'rule.manual': 'manual',
  'rule.restrictive': 'restrictive',
  'rule.most_complete': 'most complete',
  'rule.most_recent': 'most recent',
  'rule.most_frequent': 'most frequent',
  'rule.source_priority': 'source priority',
  'search.title': 'Search records',
  'search.lead': 'For disclosure and erasure requests (APPI). Search by name, kana, phone, e-mail or address.',
  'search.q': 'Search for',
  'search.submit': 'Search',
  'search.results': '{n} found',
  'search.empty': 'No records match.',
  'search.entity': 'Entity',
  'search.erase': 'Erase',
  'search.erase.label': 'Erase record {id}',
  'search.erase.title': 'Erase a record',
  'search.erase.confirm': 'Erase record {id} from the store, the index, proposals and golden records. This cannot be undone.',
  'search.erase.ok': 'Erase',
  'search.erase.done': 'Record {id} erased.',
  'audit.title': 'Audit log',
  'audit.actor': 'Actor',
  'audit.action': 'Action',
  'audit.subject': 'Subject',
  'audit.subject.hint': 'e.g. proposal:3, entity:E0000001, record:R0000001',
  'audit.apply': 'Apply',
  'audit.empty': 'No entries match.',
  'audit.col.seq': '#',
  'audit.col.at': 'When',
  'audit.col.actor': 'Who',
  'audit.col.action': 'Action',
  'audit.col.subject': 'Subject',
  'audit.col.reason': 'Reason',
  'audit.col.change': 'Change',
  'field.id': 'ID',
  'field.company_name': 'Company',
  'field.company_kana': 'Company (kana)',
  'field.person_name': 'Name',
  'field.person_kana': 'Name (kana)',
  'field.postal_code': 'Postal code',
  'field.address': 'Address',
  'field.phone': 'Phone',
  'field.fax': 'Fax',
  'field.email': 'E-mail',
  'field.birth_date': 'Date of birth',
  'field.corporate_number': 'Corporate number',
  'field.gender': 'Gender',
  'field.contact_ok': 'Contact OK',
  'field.unsubscribed': 'Unsubscribed',
  'title.page': '{page} — nayose',
  'title.error': 'Error',
  'error.back': 'Back to the review queue',
  'err.invalid_json': 'The server could not read the request (malformed).',
  'err.invalid_request': 'Something in the request is not valid.',
  'err.unknown_field': 'The record has a field the rules do not know.',
  'err.unsupported_media_type': 'The server does not accept this kind of content.',
  'err.payload_too_large': 'What was sent is too large.',
  'err.request_timeout': 'Sending took too long. Please try again.',
  'err.uri_too_long': 'The request is too long. Try a shorter search.',
  'err.unauthorized': 'The API token is wrong or no longer valid.',
  'err.forbidden': 'Your role may not do this.',
  'err.not_found': 'Not found. It may have been deleted or merged into another entity.',
  'err.method_not_allowed': 'The server does not accept this action.',
  'err.record_exists': 'A record with this id already exists.',
  'err.conflict': 'This clashed with another change and was not done. Please reload.',
  'err.idempotency_mismatch': 'This request key was already used for a different request.',
  'err.no_model': 'There is no matching model yet. Please wait for training to finish.',
  'err.internal': 'The server had an internal error (details are in its log).',
  'err.network': 'Cannot reach the server. Check the network and try again.',
  'err.unknown': 'Something unexpected went wrong (code: {code}).',
  'numbers.title': 'What the numbers mean',
  'numbers.score': 'The score is the match weight in bits (log2 of the odds that the two records are one customer): each bit doubles the odds; 0 bits is even odds.',
  'numbers.probability': 'The probability is the score as the chance (%) that the two records are one customer.',
  'numbers.bands': 'Bands: a probability of {match} or more (a score of {matchScore} bits or more) is merged automatically; {review} or more ({reviewScore} bits or more) comes to review.',
  'numbers.bands.calibrated': 'These thresholds were calibrated on {n} decided pairs.',
  'numbers.bands.rules': 'The band thresholds (the probabilities for auto-merge and review) are match_threshold and review_threshold in the rules file; the server does not report them, so they cannot be shown here.',
  'unit.bits': '{n} bits',
  'proposal.score': 'score {score}',
  'proposal.probability': 'probability {p}',
  'proposal.total': 'Score {score} (the prior plus every weight) → probability {p}',
  'aspect.branch': 'branch',
  'aspect.legal_form': 'legal form',
  'level.exact': 'exact',
  'level.close': 'close',
  'level.similar': 'similar',
  'level.extended': 'one has extra words (maybe another organisation)',
  'level.distinct': 'each has its own words (another organisation)',
  'level.different': 'different',
  'level.same': 'same',
  'level.one_sided': 'one side only',
  'level.given_only': 'given name only',
  'level.surname_only': 'surname only',
  'level.same_block': 'same block',
  'level.same_town': 'same town',
  'level.same_city': 'same city',
  'level.same_prefecture': 'same prefecture only',
  'level.same_area': 'same first 3 digits',
  'level.other_office': 'another office\'s own code',
  'level.same_local': 'same part before @',
  'level.swapped': 'month and day swapped',
  'level.one_off': 'one character off',
  'level.missing': 'missing on one or both sides',
  'level.unknown': 'unknown',
  'action.record.create': 'record created',
  'action.record.update': 'record updated',
  'action.record.delete': 'record deleted',
  'action.record.erase': 'record erased',
  'action.record.import': 'records imported',
  'action.entity.auto_merge': 'auto-merge',
  'action.entity.merge': 'merge',
  'action.entity.split': 'split',
  'action.proposal.approve': 'proposal approved',
  'action.proposal.reject': 'proposal rejected',
  'action.proposal.defer': 'proposal deferred',
  'action.proposal.reopen': 'proposal reopened',
  'action.proposal.assign': 'assignee changed',
  'action.proposal.rescore': 'scored again',
  'action.model.train': 'model trained',
  'action.labels.import': 'labels imported',
  'action.token.create': 'token created',
  'action.job.cancel': 'job cancelled',
  'action.job.resume': 'job resumed',
  'history.created': 'created',
  'history.auto_merge': 'auto-merge',
  'history.merge': 'merge',
  'history.split': 'split',
  'history.member_deleted': 'member deleted',
  'history.member_erased': 'member erased',
  'subject.proposal': 'proposal {id}',
  'subject.entity': 'entity {id}',
  'subject.record': 'record {id}',
  'subject.job': 'job {id}',
  'subject.token': 'token {id}',
  'subject.model': 'model',
  'subject.labels': 'labels',
  'detail.merged': 'merged',
  'detail.into': 'into',
  'detail.records': 'records',
  'detail.record': 'record',
  'detail.because': 'because',
  'detail.from': 'from',
  'detail.to': 'to',
  'detail.job': 'job',
  'detail.matched': 'matched',
  'detail.score': 'score',
  'detail.status': 'status',
  'detail.probability': 'probability',
  'reason.proposal': 'proposal {id}',
  'reason.import': 'import job {id}',
  'reason.merged_by': 'merged by {by}',
  'reason.on_behalf': 'on behalf of {name}',
  'reason.bulk': 'bulk approval (score {min} or more)',
  'reason.below_review': 'below the review band under the new model',
  'reason.auto_merge': 'in the auto-merge band under the new model',
  'reason.auto_merge_kept': 'in the auto-merge band under the new model, kept open: its two entities are not linked densely enough to merge by themselves',
  'reason.server_stopped': 'the server stopped while the job ran',
  'search.results.capped': '{n} or more (the first {n} shown)',
  'reason.required': 'Reason (required)',
  'audit.action.all': 'All actions',
  'actor.system': 'system',
};

const dictionaries = { ja, en };

export function lang() {
  const l = localStorage.getItem(LANG);
  return l === 'en' ? 'en' : 'ja';
}

export function setLang(l) {
  localStorage.setItem(LANG, l);
  document.documentElement.lang = l;
}

/** t('queue.claimed', {id: 3, name: 'stella'}); an unknown key shows itself. */
export function t(key, vars) {
  const d = dictionaries[lang()];
  let s = d[key] ?? ja[key] ?? key;
  if (vars) {
    s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  }
  return s;
}

/** A label for a value from a closed set (`status.open`), else the value. */
export function label(prefix, value) {
  const key = `${prefix}.${value}`;
  const d = dictionaries[lang()];
  return d[key] ?? value;
}

export function fieldName(f) {
  return label('field', f);
}

export function formatNumber(n, digits = 2) {
  return Number(n).toLocaleString(lang() === 'en' ? 'en-US' : 'ja-JP', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function percent(p) {
  return (p * 100).toLocaleString(lang() === 'en' ? 'en-US' : 'ja-JP', { maximumFractionDigits: 1 }) + '%';
}

export function dateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang() === 'en' ? 'en-GB' : 'ja-JP');
}

/** `提案 #3 — 名寄せ`: the tab's title for a page. */
export function pageTitle(page) {
  return t('title.page', { page });
}

/** A score with its unit: `0.31 ビット`. */
export function bits(score) {
  return t('unit.bits', { n: formatNumber(score) });
}

/** Does the page's language (or Japanese) have this key? */
function has(key) {
  return key in dictionaries[lang()] || key in ja;
}

/**
 * What went wrong, in the page's language. The server's error `code` is
 * stable and mapped here (src/server/error.rs `ErrorCode`); its `message`
 * is English for developers and is never shown. `network` is the page's
 * own code for a request that never got an answer (`Failed to fetch`).
 */
export function errorMessage(e) {
  const code = e && e.code;
  if (code && has(`err.${code}`)) return t(`err.${code}`);
  if (e && e.status === 404) return t('err.not_found');
  if (e && e.status === 403) return t('err.forbidden');
  return t('err.unknown', { code: code || (e && e.name) || '?' });
}

/** A comparison level (`same_town`, `one_sided`, …) in words; an unknown
 * label is shown as it is. */
export function levelName(level) {
  return label('level', level);
}

/** A comparison's name: its field, and the aspect for `field:branch`
 * and `field:legal_form` (`会社名(支店・事業所)`). */
export function comparisonName(comparison, field) {
  const name = fieldName(field);
  if (!comparison || comparison === field) return name;
  const prefix = `${field}:`;
  if (comparison.startsWith(prefix)) {
    const aspect = comparison.slice(prefix.length);
    return lang() === 'ja' ? `${name}(${label('aspect', aspect)})` : `${name} (${label('aspect', aspect)})`;
  }
  return comparison;
}

/** An audit action (`proposal.approve`) in words. */
export function actionName(action) {
  return label('action', action);
}

/** Who did it: `system` (the service itself: imports, auto-merges,
 * resumed jobs) in words; a person's name as it is. */
export function actorName(actor) {
  return actor === 'system' ? t('actor.system') : actor;
}

/** An entity history action (`created`, `merge`, …) in words. */
export function historyName(action) {
  return label('history', action);
}

/** An audit subject (`job:J0000001`, `proposal:7`, `model`) in words. */
export function subjectText(subject) {
  const s = String(subject ?? '');
  const at = s.indexOf(':');
  const kind = at < 0 ? s : s.slice(0, at);
  const id = at < 0 ? '' : s.slice(at + 1);
  const key = `subject.${kind}`;
  if (!has(key)) return s;
  if (at < 0) return t(key).includes('{id}') ? s : t(key);
  return t(key, { id });
}

/**
 * A reason in words. The reasons the server writes itself (a merge
 * `because: proposal 7`, a bulk approval, a rescore) are fixed English
 * phrases, translated here; a reason a steward typed is shown as typed.
 */
export function reasonText(reason) {
  if (reason === null || reason === undefined) return '';
  const s = String(reason);
  let m;
  if ((m = /^proposal (\S+)$/.exec(s))) return t('reason.proposal', { id: m[1] });
  if ((m = /^import (\S+)$/.exec(s))) return t('reason.import', { id: m[1] });
  if ((m = /^merged by (.+)$/.exec(s))) return t('reason.merged_by', { by: reasonText(m[1]) });
  if ((m = /^on behalf of (.+)$/.exec(s))) return t('reason.on_behalf', { name: m[1] });
  if ((m = /^bulk approval: score ≥ (\S+)$/.exec(s))) return t('reason.bulk', { min: m[1] });
  if (s === 'below the review band under the new model') return t('reason.below_review');
  if (s === 'in the auto-merge band under the new model') return t('reason.auto_merge');
  if (s.startsWith('in the auto-merge band under the new model, kept open')) return t('reason.auto_merge_kept');
  if (s === 'the server stopped while the job ran') return t('reason.server_stopped');
  return s;
}

/** A JSON detail (history, audit before/after) as one short line in the
 * page's language: `統合元: E0000012 · 統合先: E0000003 · 理由: 提案 7`. */
export function detailText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return v.map(detailText).join(', ');
  return Object.entries(v).map(([k, x]) => {
    let value;
    if (k === 'because') value = reasonText(x);
    else if (k === 'status' && typeof x === 'string') value = label('status', x);
    else if (k === 'probability' && typeof x === 'number') value = percent(x);
    else if (k === 'score' && typeof x === 'number') value = bits(x);
    else if (typeof x === 'object' && x !== null && !Array.isArray(x)) value = '{' + detailText(x) + '}';
    else value = detailText(x);
    return `${label('detail', k)}: ${value}`;
  }).join(' · ');
}
