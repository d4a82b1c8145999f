/** Lines for the synthetic DJs and TV presenters, in the three languages heard on Kazakhstan's air. */

export type Language = 'ru' | 'kk' | 'en';

/** espeak-ng voices per language (language + variant); `espeak-ng --voices` lists ru, kk, en-gb, en-us. */
export const VOICES: Record<Language, string[]> = {
  ru: ['ru+m3', 'ru+f2', 'ru+m1', 'ru+f4'],
  kk: ['kk+m2', 'kk+f3', 'kk+m4', 'kk+f1'],
  en: ['en-gb+m3', 'en-us+f2', 'en-gb+f4', 'en-us+m1'],
};

/** Short radio talk: intros, outros, station idents, weather, traffic. */
export const DJ_LINES: Record<Language, string[]> = {
  ru: [
    'Добрый вечер, дорогие радиослушатели, с вами радио Тыңдау.',
    'А сейчас прозвучит композиция, которую вы так часто просите в наших заявках.',
    'В Алматы сегодня до двадцати градусов тепла, вечером возможен небольшой дождь.',
    'На дорогах столицы затруднено движение по проспекту Республики, будьте внимательны.',
    'Это была отличная песня, а мы продолжаем наш музыкальный час.',
    'Напоминаем, что у нас в студии работает прямая линия, звоните нам.',
    'Следующий трек посвящается всем, кто сейчас в пути.',
    'Московское время семнадцать часов, в Астане девятнадцать.',
    'Не переключайтесь, после короткой рекламы вас ждут новости культуры.',
    'Поздравляем Айгерим с днём рождения, эта песня звучит для неё.',
    'Вы слушаете хит-парад недели, и на пятом месте у нас новинка.',
    'Спасибо, что выбираете нашу волну, оставайтесь с нами.',
  ],
  kk: [
    'Қайырлы кеш, құрметті радио тыңдармандар, Тыңдау радиосы эфирде.',
    'Қазір сіздер жиі сұрайтын ән шырқалады.',
    'Алматыда бүгін жиырма градусқа дейін жылы, кешке жаңбыр жаууы мүмкін.',
    'Астанада Республика даңғылында көлік кептелісі бар, абай болыңыздар.',
    'Бұл керемет ән болды, ал біз музыкалық сағатымызды жалғастырамыз.',
    'Студиямызда тікелей байланыс жұмыс істейді, бізге қоңырау шалыңыздар.',
    'Келесі ән қазір жолда жүрген барлық адамдарға арналады.',
    'Астана уақыты он тоғыз сағат, жаңалықтар он бес минуттан кейін.',
    'Ауыспаңыздар, қысқа жарнамадан кейін мәдениет жаңалықтары.',
    'Айгерімді туған күнімен құттықтаймыз, бұл ән соған арналады.',
    'Апта хит-парадын тыңдап отырсыздар, бесінші орында жаңа ән.',
    'Біздің толқынды таңдағаныңыз үшін рахмет, бізбен бірге болыңыз.',
  ],
  en: [
    'Good evening everybody, you are listening to Tyndau radio.',
    'Coming up next, a song you keep asking for in your requests.',
    'Twenty degrees in Almaty today, with a chance of light rain tonight.',
    'Heavy traffic on Republic Avenue in the capital, so take care out there.',
    'That was a great tune, and we carry on with our music hour.',
    'Our phone lines are open, give us a call in the studio.',
    'This next track goes out to everyone on the road right now.',
    'It is seven in the evening in Astana, news in fifteen minutes.',
    'Stay tuned, right after the break we have the culture news.',
    'Happy birthday to Aigerim, this one is for you.',
    'This is the chart show of the week, and at number five a brand new entry.',
    'Thanks for choosing our station, stay with us.',
  ],
};

/** TV dialogue: talk shows, drama, news features. */
export const DIALOGUE_LINES: Record<Language, string[]> = {
  ru: [
    'Ты правда думаешь, что он вернётся до утра?',
    'Я не знаю, но мы должны быть готовы ко всему.',
    'В нашей студии сегодня гость, который двадцать лет изучает степных орлов.',
    'Расскажите, пожалуйста, как всё начиналось.',
    'Это было в девяносто восьмом году, в маленьком посёлке под Караганды.',
    'Мы спорили до поздней ночи, но так ничего и не решили.',
    'Послушай, давай просто поговорим спокойно, без крика.',
    'Урожай в этом году оказался выше ожиданий почти на треть.',
    'Говорят, что в горах уже выпал первый снег.',
    'Я позвоню тебе завтра, когда всё станет ясно.',
    'Зрители в зале аплодируют, и ведущий объявляет следующего участника.',
    'Почему ты мне ничего не сказал раньше?',
  ],
  kk: [
    'Сен шынымен ол таңға дейін қайтып келеді деп ойлайсың ба?',
    'Білмеймін, бірақ біз бәріне дайын болуымыз керек.',
    'Бүгін студиямызда жиырма жыл бойы дала қырандарын зерттеген қонақ бар.',
    'Айтыңызшы, бәрі қалай басталды?',
    'Бұл тоқсан сегізінші жылы, Қарағанды маңындағы шағын ауылда болды.',
    'Біз түн ортасына дейін дауластық, бірақ ештеңе шешпедік.',
    'Тыңда, айқайламай, жай ғана сөйлесейікші.',
    'Биылғы өнім күткеннен үштен бірге дерлік жоғары болды.',
    'Тауларда алғашқы қар түсті дейді.',
    'Ертең бәрі анық болғанда саған қоңырау шаламын.',
    'Залдағы көрермендер қол шапалақтайды, жүргізуші келесі қатысушыны жариялайды.',
    'Неге маған бұрын ештеңе айтпадың?',
  ],
  en: [
    'Do you really think he will be back before morning?',
    'I do not know, but we have to be ready for anything.',
    'Our guest tonight has spent twenty years studying the eagles of the steppe.',
    'Tell us, please, how did it all begin?',
    'It was back in ninety eight, in a small village near Karaganda.',
    'We argued until late at night and decided nothing.',
    'Listen, let us just talk calmly, without shouting.',
    'The harvest this year was almost a third above expectations.',
    'They say the first snow has already fallen in the mountains.',
    'I will call you tomorrow when everything is clear.',
    'The audience applauds and the host announces the next contestant.',
    'Why did you not tell me anything before?',
  ],
};

export const LANGUAGES: Language[] = ['ru', 'kk', 'en'];
