"""Multilingual listing vocabulary, countries, currencies and text perturbations."""

from __future__ import annotations

import numpy as np

LANGS = ("en", "es", "de", "id", "zh", "ja", "ru", "ar", "pt")
NO_SPACE = frozenset({"zh", "ja"})

# country -> (language, currency, sampling weight)
COUNTRIES: dict[str, tuple[str, str, float]] = {
    "US": ("en", "USD", 0.16),
    "GB": ("en", "GBP", 0.06),
    "IN": ("en", "INR", 0.06),
    "DE": ("de", "EUR", 0.07),
    "ES": ("es", "EUR", 0.05),
    "MX": ("es", "USD", 0.05),
    "ID": ("id", "IDR", 0.14),
    "CN": ("zh", "CNY", 0.16),
    "JP": ("ja", "JPY", 0.07),
    "RU": ("ru", "USD", 0.05),
    "SA": ("ar", "USD", 0.03),
    "AE": ("ar", "USD", 0.02),
    "BR": ("pt", "BRL", 0.08),
}
COUNTRY_CODES = tuple(COUNTRIES)
COUNTRY_WEIGHTS = np.array([v[2] for v in COUNTRIES.values()]) / sum(v[2] for v in COUNTRIES.values())
FX_PER_USD = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "IDR": 15800.0, "BRL": 5.1, "JPY": 150.0, "CNY": 7.2}
FX_PER_USD["INR"] = 83.0
WHOLE_CURRENCIES = frozenset({"IDR", "JPY"})

# category -> (median price USD, lognormal sigma)
PRICE = {
    "electronics": (60.0, 1.0),
    "fashion": (25.0, 0.7),
    "beauty": (15.0, 0.6),
    "home": (30.0, 0.8),
    "toys": (18.0, 0.7),
    "sports": (35.0, 0.8),
    "grocery": (8.0, 0.6),
    "jewelry": (40.0, 1.1),
    "books": (12.0, 0.5),
    "automotive": (45.0, 1.0),
}

_N = {
    "en": "earbuds,phone charger,smart watch|sneakers,hoodie,denim jacket|lipstick,face serum,sunscreen|"
    "throw pillow,ceramic mug,desk lamp|building blocks,plush bear,puzzle|yoga mat,running shoes,dumbbell|"
    "green tea,instant noodles,coffee beans|silver necklace,gold ring,earrings|novel,cookbook,notebook|"
    "car phone holder,seat cover,dash cam",
    "es": "auriculares,cargador,reloj inteligente|zapatillas,sudadera,"
    "chaqueta vaquera|pintalabios,sérum facial,"
    "protector solar|cojín,taza de cerámica,lámpara|bloques,oso de peluche,rompecabezas|esterilla de yoga,"
    "zapatillas de running,mancuerna|té verde,fideos,café en grano|collar de plata,anillo de oro,pendientes|"
    "novela,libro de cocina,cuaderno|soporte de móvil,funda de asiento,cámara para coche",
    "de": "Kopfhörer,Ladegerät,Smartwatch|Turnschuhe,Kapuzenpullover,Jeansjacke|Lippenstift,Gesichtsserum,"
    "Sonnencreme|Kissen,Keramiktasse,Schreibtischlampe|Bausteine,Plüschbär,Puzzle|Yogamatte,Laufschuhe,"
    "Hantel|Grüntee,Nudeln,Kaffeebohnen|Silberkette,Goldring,Ohrringe|Roman,Kochbuch,Notizbuch|"
    "Handyhalterung,Sitzbezug,Dashcam",
    "id": "earphone,pengisi daya,jam pintar|sepatu,hoodie,jaket jeans|lipstik,serum wajah,tabir surya|bantal,"
    "mug keramik,lampu meja|balok susun,boneka beruang,puzzle|matras yoga,sepatu lari,dumbel|teh hijau,"
    "mi instan,biji kopi|kalung perak,cincin emas,anting|novel,buku resep,buku catatan|"
    "dudukan hp mobil,sarung jok,kamera dasbor",
    "zh": "蓝牙耳机,充电器,智能手表|运动鞋,连帽衫,牛仔夹克|口红,精华液,防晒霜|"
    "抱枕,陶瓷杯,台灯|积木,毛绒熊,拼图|"
    "瑜伽垫,跑鞋,哑铃|绿茶,方便面,咖啡豆|银项链,金戒指,耳环|小说,菜谱,笔记本|车载支架,座椅套,行车记录仪",
    "ja": "ワイヤレスイヤホン,充電器,スマートウォッチ|スニーカー,パーカー,デニムジャケット|"
    "口紅,美容液,日焼け止め|"
    "クッション,マグカップ,デスクライト|ブロック,ぬいぐるみ,パズル|ヨガマット,ランニングシューズ,ダンベル|"
    "緑茶,インスタント麺,コーヒー豆|シルバーネックレス,ゴールドリング,ピアス|小説,料理本,ノート|"
    "スマホホルダー,シートカバー,ドライブレコーダー",
    "ru": "наушники,зарядка,смарт-часы|кроссовки,худи,джинсовая куртка|помада,сыворотка,солнцезащитный крем|"
    "подушка,керамическая кружка,настольная лампа|конструктор,плюшевый мишка,пазл|коврик для йоги,"
    "беговые кроссовки,гантель|зелёный чай,лапша,кофе в зёрнах|серебряная цепочка,золотое кольцо,серьги|"
    "роман,кулинарная книга,блокнот|держатель телефона,чехол на сиденье,видеорегистратор",
    "ar": "سماعات,شاحن,ساعة ذكية|حذاء رياضي,هودي,جاكيت جينز|أحمر شفاه,سيروم للوجه,واقي شمس|وسادة,كوب سيراميك,"
    "مصباح مكتب|مكعبات,دب محشو,أحجية|سجادة يوغا,حذاء جري,دمبل|شاي أخضر,نودلز,حبوب قهوة|قلادة فضة,خاتم ذهب,"
    "أقراط|رواية,كتاب طبخ,دفتر|حامل هاتف للسيارة,غطاء مقعد,كاميرا سيارة",
    "pt": "fones de ouvido,carregador,relógio inteligente|tênis,moletom,jaqueta jeans|batom,sérum facial,"
    "protetor solar|almofada,caneca de cerâmica,luminária|blocos de montar,urso de pelúcia,quebra-cabeça|"
    "tapete de yoga,tênis de corrida,halter|chá verde,macarrão instantâneo,café em grãos|colar de prata,"
    "anel de ouro,brincos|romance,livro de receitas,caderno|suporte de celular,capa de banco,câmera veicular",
}
_A = {
    "en": "premium,portable,classic,lightweight,waterproof,vintage,soft,original",
    "es": "premium,portátil,clásico,ligero,impermeable,vintage,suave,original",
    "de": "hochwertig,tragbar,klassisch,leicht,wasserdicht,vintage,weich,original",
    "id": "premium,portabel,klasik,ringan,anti air,vintage,lembut,original",
    "zh": "高品质,便携,经典,轻便,防水,复古,柔软,正品",
    "ja": "高品質,ポータブル,クラシック,軽量,防水,ヴィンテージ,やわらか,純正",
    "ru": "премиум,портативный,классический,лёгкий,водонепроницаемый,винтажный,мягкий,оригинальный",
    "ar": "فاخر,محمول,كلاسيكي,خفيف,مقاوم للماء,عتيق,ناعم,أصلي",
    "pt": "premium,portátil,clássico,leve,à prova d'água,vintage,macio,original",
}
_COLOR = {
    "en": "black,white,red,blue,pink",
    "es": "negro,blanco,rojo,azul,rosa",
    "de": "schwarz,weiß,rot,blau,rosa",
    "id": "hitam,putih,merah,biru,pink",
    "zh": "黑色,白色,红色,蓝色,粉色",
    "ja": "ブラック,ホワイト,レッド,ブルー,ピンク",
    "ru": "чёрный,белый,красный,синий,розовый",
    "ar": "أسود,أبيض,أحمر,أزرق,وردي",
    "pt": "preto,branco,vermelho,azul,rosa",
}
_DESC = {
    "en": "High quality {n}, {a} design for everyday use. Ships in 24h.|{a} {n}. Satisfaction guaranteed, "
    "easy returns.",
    "es": "{n} de alta calidad, diseño {a} para el día a día. Envío en 24h.|{n} {a}. Satisfacción garantizada.",
    "de": "Hochwertige(r) {n}, {a}es Design für jeden Tag. Versand in 24h.|{n}, {a}. Einfache Rückgabe.",
    "id": "{n} berkualitas tinggi, desain {a} untuk sehari-hari. Kirim 24 jam.|{n} {a}. Garansi puas.",
    "zh": "高品质{n}，{a}设计，日常使用。24小时发货。|{a}{n}，满意保证，七天无理由退货。",
    "ja": "高品質な{n}。{a}デザインで毎日使えます。24時間以内に発送。|{a}な{n}。返品保証付き。",
    "ru": "Качественный товар: {n}, {a} дизайн на каждый день. Отправка за 24 часа.|{n}, {a}. Лёгкий возврат.",
    "ar": "{n} عالي الجودة بتصميم {a} للاستخدام اليومي. شحن خلال 24 ساعة.|{n} {a}. ضمان الرضا.",
    "pt": "{n} de alta qualidade, design {a} para o dia a dia. Envio em 24h.|{n} {a}. Satisfação garantida.",
}
_REVIEW_POS = {
    "en": "Great quality, fast delivery!|Exactly as described, recommend.|Love it!!",
    "es": "¡Muy buena calidad!|Tal como se describe.|Me encanta",
    "de": "Super Qualität, schnelle Lieferung!|Wie beschrieben.|Top!",
    "id": "Barang bagus, pengiriman cepat!|Sesuai deskripsi.|Mantap",
    "zh": "质量很好，发货快！|和描述一致，推荐。|非常喜欢",
    "ja": "品質が良く、発送も早い！|説明通りでした。|最高です",
    "ru": "Отличное качество, быстрая доставка!|Всё как в описании.|Супер",
    "ar": "جودة ممتازة وتوصيل سريع!|مطابق للوصف.|رائع",
    "pt": "Ótima qualidade, entrega rápida!|Conforme descrito.|Adorei",
}
_REVIEW_NEG = {
    "en": "Not as described.|Broke after two days.|Fake, do not buy",
    "es": "No es como se describe.|Se rompió enseguida.|Falso",
    "de": "Nicht wie beschrieben.|Nach zwei Tagen kaputt.|Fälschung",
    "id": "Tidak sesuai deskripsi.|Cepat rusak.|Palsu",
    "zh": "与描述不符。|用了两天就坏了。|假货",
    "ja": "説明と違う。|すぐ壊れた。|偽物です",
    "ru": "Не соответствует описанию.|Сломалось через два дня.|Подделка",
    "ar": "غير مطابق للوصف.|تعطل بعد يومين.|مقلد",
    "pt": "Não é como descrito.|Quebrou em dois dias.|Falsificado",
}
_SHOP = {
    "en": "Store,Shop,Outlet,Official",
    "es": "Tienda,Bazar,Outlet",
    "de": "Laden,Shop,Handel",
    "id": "Toko,Grosir,Jaya",
    "zh": "旗舰店,专营店,小店",
    "ja": "ショップ,ストア,本舗",
    "ru": "Магазин,Лавка,Маркет",
    "ar": "متجر,بيت,سوق",
    "pt": "Loja,Empório,Shop",
}
_SYL = ("ka", "lo", "mi", "ra", "tu", "sen", "vi", "no", "zen", "ba", "lux", "ori", "ta", "ne", "jo", "pa")

NOUNS: dict[str, list[list[str]]] = {k: [g.split(",") for g in v.split("|")] for k, v in _N.items()}
ADJS: dict[str, list[str]] = {k: v.split(",") for k, v in _A.items()}
COLORS: dict[str, list[str]] = {k: v.split(",") for k, v in _COLOR.items()}
DESCS: dict[str, list[str]] = {k: v.split("|") for k, v in _DESC.items()}
REVIEW_POS: dict[str, list[str]] = {k: v.split("|") for k, v in _REVIEW_POS.items()}
REVIEW_NEG: dict[str, list[str]] = {k: v.split("|") for k, v in _REVIEW_NEG.items()}
SHOP_SUFFIX: dict[str, list[str]] = {k: v.split(",") for k, v in _SHOP.items()}
SPAM_TOKENS = ("HOT", "NEW", "2026", "!!", "SALE", "🔥", "Free Shipping", "Best Price", "★")
REPORT_TEXT = ("fake product", "seller never shipped", "misleading photos", "scam shop", "copied my listing")
HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "i": "і", "x": "х", "y": "у"}
LOOKALIKE = {"i": "l", "l": "I", "o": "0", "e": "3", "a": "4", "s": "5", "m": "rn", "u": "v"}


def sep(lang: str) -> str:
    """Word separator of a language (none for Chinese and Japanese)."""
    return "" if lang in NO_SPACE else " "


def listing_text(rng: np.random.Generator, lang: str, cat_idx: int, brand: str | None = None) -> tuple[str, str]:
    """A (title, description) pair for one listing in ``lang`` and category index ``cat_idx``."""
    s = sep(lang)
    noun = NOUNS[lang][cat_idx][int(rng.integers(len(NOUNS[lang][cat_idx])))]
    adj = ADJS[lang][int(rng.integers(len(ADJS[lang])))]
    color = COLORS[lang][int(rng.integers(len(COLORS[lang])))]
    parts = [adj, noun, color]
    if rng.random() < 0.3:
        parts.append(str(int(rng.integers(2019, 2027))))
    if brand:
        parts.insert(0, brand)
    title = s.join(parts)
    tmpl = DESCS[lang][int(rng.integers(len(DESCS[lang])))]
    return title, tmpl.format(n=noun, a=adj)


def typo(rng: np.random.Generator, word: str) -> str:
    """Apply one random character-level typo (swap, drop, double) to ``word``."""
    if len(word) < 3:
        return word + word[-1:]
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(3))
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def perturb(rng: np.random.Generator, text: str, lang: str, spam: bool = True) -> str:
    """A near-duplicate of ``text``: reordered words, typos, spam tokens (if ``spam``) or case changes."""
    s = sep(lang)
    tokens = text.split(" ") if s else [text]
    ops = rng.integers(0, 4, size=int(rng.integers(1, 3)))
    if not spam:
        ops = np.where(ops == 2, 3, ops)  # a case change instead of a promo token
    for op in ops.tolist():
        if op == 0 and len(tokens) > 2:
            i = int(rng.integers(len(tokens) - 1))
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        elif op == 1:
            i = int(rng.integers(len(tokens)))
            tokens[i] = typo(rng, tokens[i])
        elif op == 2:
            tok = SPAM_TOKENS[int(rng.integers(len(SPAM_TOKENS)))]
            if rng.random() < 0.5:
                tokens.insert(0, tok)
            else:
                tokens.append(tok)
        else:
            i = int(rng.integers(len(tokens)))
            tokens[i] = tokens[i].upper() if rng.random() < 0.5 else tokens[i].lower()
    return " ".join(tokens)


def typo_squat(rng: np.random.Generator, brand: str) -> str:
    """A look-alike of a brand name (``Nike`` -> ``Nlke``, ``Adidas`` -> ``Adidsa``, homoglyphs)."""
    for _ in range(10):
        kind = int(rng.integers(4))
        low = brand.lower()
        if kind == 0:
            cand = [i for i, ch in enumerate(low) if ch in LOOKALIKE and i > 0]
            if cand:
                i = cand[int(rng.integers(len(cand)))]
                out = brand[:i] + LOOKALIKE[low[i]] + brand[i + 1 :]
            else:
                continue
        elif kind == 1:
            cand = [i for i, ch in enumerate(low) if ch in HOMOGLYPHS]
            if not cand:
                continue
            i = cand[int(rng.integers(len(cand)))]
            out = brand[:i] + HOMOGLYPHS[low[i]] + brand[i + 1 :]
        elif kind == 2 and len(brand) > 3:
            i = int(rng.integers(1, len(brand) - 1))
            out = brand[:i] + brand[i + 1] + brand[i] + brand[i + 2 :]
        else:
            i = int(rng.integers(1, len(brand)))
            out = brand[:i] + brand[i - 1] + brand[i:]
        if out != brand and out.lower() != low:
            return out
    return brand + brand[-1]


def shop_name(rng: np.random.Generator, lang: str) -> str:
    """A plausible shop name in ``lang``."""
    n = int(rng.integers(2, 4))
    stem = "".join(_SYL[int(i)] for i in rng.integers(len(_SYL), size=n)).capitalize()
    suffix = SHOP_SUFFIX[lang][int(rng.integers(len(SHOP_SUFFIX[lang])))]
    return f"{stem}{sep(lang)}{suffix}" if lang not in ("id", "es", "pt") else f"{suffix} {stem}"


def handle(rng: np.random.Generator) -> str:
    """A creator handle such as ``lina.beauty42``."""
    stem = "".join(_SYL[int(i)] for i in rng.integers(len(_SYL), size=int(rng.integers(2, 4))))
    topic = ("beauty", "tech", "style", "deals", "home", "fit", "eats", "live")[int(rng.integers(8))]
    return f"{stem}.{topic}{int(rng.integers(100))}"


def listing_texts(
    rng: np.random.Generator, langs: list[str], cats: list[int], brands: list[str | None]
) -> tuple[list[str], list[str]]:
    """Vectorised :func:`listing_text` for many listings (one draw per random choice).

    The draws are one ``(n, 5)`` uniform matrix and one year vector; the strings are
    assembled per language with element-wise array operations, and each distinct
    description (template, noun, adjective) is formatted once.

    Args:
        rng: random generator.
        langs: language code per listing.
        cats: category index per listing.
        brands: brand name to put in front of the title, or ``None``.

    Returns:
        ``(titles, descs)``.
    """
    n = len(langs)
    u = rng.random((n, 5))
    years = rng.integers(2019, 2027, size=n)
    titles = np.empty(n, dtype=object)
    descs = np.empty(n, dtype=object)
    lang_arr = np.asarray(langs, dtype=object)
    cat_arr = np.asarray(cats, dtype=np.int64)
    brand_arr = np.asarray(brands, dtype=object)
    for lang in dict.fromkeys(langs):
        rows = np.flatnonzero(lang_arr == lang)
        s = sep(lang)
        ur = u[rows]
        adjs, colors, tmpls = ADJS[lang], COLORS[lang], DESCS[lang]
        adj_i = (ur[:, 1] * len(adjs)).astype(np.int64)
        adj = np.asarray(adjs, dtype=object)[adj_i]
        color = np.asarray(colors, dtype=object)[(ur[:, 2] * len(colors)).astype(np.int64)]
        # nouns depend on the category: pick per (language, category) group
        noun = np.empty(rows.shape[0], dtype=object)
        noun_key = np.empty(rows.shape[0], dtype=np.int64)
        rc = cat_arr[rows]
        for c in np.unique(rc).tolist():
            sub = np.flatnonzero(rc == c)
            nouns = NOUNS[lang][c]
            k = (ur[sub, 0] * len(nouns)).astype(np.int64)
            noun[sub] = np.asarray(nouns, dtype=object)[k]
            noun_key[sub] = c * 1_000 + k
        year_txt = np.array([s + str(y) for y in range(2019, 2027)], dtype=object)
        year = np.where(ur[:, 3] < 0.3, year_txt[years[rows] - 2019], "")
        b = brand_arr[rows]
        lead = np.full(rows.shape[0], "", dtype=object)
        has_b = np.flatnonzero([bool(x) for x in b.tolist()])
        lead[has_b] = [x + s for x in b[has_b].tolist()]
        sp = [s] * rows.shape[0]
        cols = (lead.tolist(), adj.tolist(), sp, noun.tolist(), sp, color.tolist(), year.tolist())
        titles[rows] = list(map("".join, zip(*cols, strict=True)))
        # one format call per distinct (template, noun, adjective)
        tmpl_i = (ur[:, 4] * len(tmpls)).astype(np.int64)
        code = (tmpl_i * 1_000_000 + noun_key) * 1_000 + adj_i
        _, first, inv = np.unique(code, return_index=True, return_inverse=True)
        made = np.array([tmpls[int(tmpl_i[j])].format(n=noun[j], a=adj[j]) for j in first.tolist()], dtype=object)
        descs[rows] = made[inv.reshape(-1)]
    return titles.tolist(), descs.tolist()
