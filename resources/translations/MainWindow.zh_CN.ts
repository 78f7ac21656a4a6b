<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>MainWindow</name>
    <message>
      <source>WattDesk — {site}</source>
      <translation>WattDesk — {site}</translation>
    </message>
    <message>
      <source>Overview</source>
      <translation>总览</translation>
    </message>
    <message>
      <source>Single-line diagrams</source>
      <translation>一次系统图</translation>
    </message>
    <message>
      <source>Trends</source>
      <translation>趋势</translation>
    </message>
    <message>
      <source>Alarms &amp; events</source>
      <translation>报警与事件</translation>
    </message>
    <message>
      <source>Devices</source>
      <translation>设备</translation>
    </message>
    <message>
      <source>&amp;View</source>
      <translation>视图(&amp;V)</translation>
    </message>
    <message>
      <source>Language</source>
      <translation>语言</translation>
    </message>
    <message>
      <source>Theme</source>
      <translation>主题</translation>
    </message>
    <message>
      <source>Dark</source>
      <translation>深色</translation>
    </message>
    <message>
      <source>Light</source>
      <translation>浅色</translation>
    </message>
    <message>
      <source>Full screen</source>
      <translation>全屏</translation>
    </message>
    <message>
      <source>Devices online {n}/{total}</source>
      <translation>设备在线 {n}/{total}</translation>
    </message>
    <message>
      <source>Offline: {ids}</source>
      <translation>离线：{ids}</translation>
    </message>
    <message>
      <source>User: {user} ({role})</source>
      <translation>用户：{user}（{role}）</translation>
    </message>
    <message>
      <source>Database OK</source>
      <translation>数据库正常</translation>
    </message>
    <message>
      <source>Database connecting…</source>
      <translation>数据库连接中…</translation>
    </message>
    <message>
      <source>Database DOWN — buffering {n} samples</source>
      <translation>数据库中断 — 已缓存 {n} 条数据</translation>
    </message>
    <message>
      <source>Users &amp; roles</source>
      <translation>用户与角色</translation>
    </message>
    <message>
      <source>Audit log near its storage limit: {used} of {limit}</source>
      <translation>审计日志接近存储上限：已用 {used} / {limit}</translation>
    </message>
    <message>
      <source>Audit log: disk almost full ({free} free)</source>
      <translation>审计日志：磁盘将满（剩余 {free}）</translation>
    </message>
    <message>
      <source>Audit log storage unknown</source>
      <translation>审计日志存储状态未知</translation>
    </message>
    <message>
      <source>Audit records are never deleted. Export and archive them, then give the database more room.</source>
      <translation>审计记录永不删除。请导出并归档，再为数据库扩充空间。</translation>
    </message>
    <message>
      <source>Users &amp; roles closed: your role may no longer manage users.</source>
      <translation>“用户与角色”已关闭：您的角色已无权管理用户。</translation>
    </message>
  </context>
</TS>
