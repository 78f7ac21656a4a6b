<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>UsersView</name>
    <message>
      <source>Users &amp; roles</source>
      <translation>用户与角色</translation>
    </message>
    <message>
      <source>Every change is checked against your role and recorded in the audit log.</source>
      <translation>每项更改都按您的角色核查，并记入审计日志。</translation>
    </message>
    <message>
      <source>Accounts</source>
      <translation>账户</translation>
    </message>
    <message>
      <source>Permissions</source>
      <translation>权限</translation>
    </message>
    <message>
      <source>User name</source>
      <translation>用户名</translation>
    </message>
    <message>
      <source>Full name</source>
      <translation>姓名</translation>
    </message>
    <message>
      <source>Role</source>
      <translation>角色</translation>
    </message>
    <message>
      <source>State</source>
      <translation>状态</translation>
    </message>
    <message>
      <source>Locked out until</source>
      <translation>锁定至</translation>
    </message>
    <message>
      <source>Last login</source>
      <translation>最后登录</translation>
    </message>
    <message>
      <source>Add user…</source>
      <translation>添加用户…</translation>
    </message>
    <message>
      <source>Reset password…</source>
      <translation>重置密码…</translation>
    </message>
    <message>
      <source>Change role…</source>
      <translation>更改角色…</translation>
    </message>
    <message>
      <source>Disable</source>
      <translation>停用</translation>
    </message>
    <message>
      <source>Enable</source>
      <translation>启用</translation>
    </message>
    <message>
      <source>Refresh</source>
      <translation>刷新</translation>
    </message>
    <message>
      <source>Disabled</source>
      <translation>已停用</translation>
    </message>
    <message>
      <source>Enabled</source>
      <translation>已启用</translation>
    </message>
    <message>
      <source>Never</source>
      <translation>从未</translation>
    </message>
    <message>
      <source>Permission</source>
      <translation>权限</translation>
    </message>
    <message>
      <source>Area</source>
      <translation>区域</translation>
    </message>
    <message>
      <source>Grant</source>
      <translation>授予</translation>
    </message>
    <message>
      <source>Revoke</source>
      <translation>撤销</translation>
    </message>
    <message>
      <source>All areas</source>
      <translation>全部区域</translation>
    </message>
    <message>
      <source>all areas</source>
      <translation>全部区域</translation>
    </message>
    <message>
      <source>Always</source>
      <translation>始终</translation>
    </message>
    <message>
      <source>Administrator</source>
      <translation>管理员</translation>
    </message>
    <message>
      <source>Operator</source>
      <translation>操作员</translation>
    </message>
    <message>
      <source>Viewer</source>
      <translation>查看者</translation>
    </message>
    <message>
      <source>View</source>
      <translation>查看</translation>
    </message>
    <message>
      <source>Control (telecontrol)</source>
      <translation>遥控操作</translation>
    </message>
    <message>
      <source>Acknowledge alarms</source>
      <translation>确认报警</translation>
    </message>
    <message>
      <source>Shelve alarms</source>
      <translation>搁置报警</translation>
    </message>
    <message>
      <source>Edit settings</source>
      <translation>修改设置</translation>
    </message>
    <message>
      <source>Manage users</source>
      <translation>管理用户</translation>
    </message>
    <message>
      <source>Export reports</source>
      <translation>导出报表</translation>
    </message>
    <message>
      <source>Account {name} added.</source>
      <translation>已添加账户 {name}。</translation>
    </message>
    <message>
      <source>Password of {name} reset.</source>
      <translation>已重置 {name} 的密码。</translation>
    </message>
    <message>
      <source>Role of {name} changed.</source>
      <translation>已更改 {name} 的角色。</translation>
    </message>
    <message>
      <source>Account {name} disabled.</source>
      <translation>已停用账户 {name}。</translation>
    </message>
    <message>
      <source>Account {name} enabled.</source>
      <translation>已启用账户 {name}。</translation>
    </message>
    <message>
      <source>{role} may now: {permission} ({area}).</source>
      <translation>{role}现可：{permission}（{area}）。</translation>
    </message>
    <message>
      <source>{role} could already: {permission} ({area}).</source>
      <translation>{role}已有此权限：{permission}（{area}）。</translation>
    </message>
    <message>
      <source>{role} may no longer: {permission} ({area}).</source>
      <translation>{role}不再可以：{permission}（{area}）。</translation>
    </message>
    <message>
      <source>{role} did not have: {permission} ({area}); nothing changed.</source>
      <translation>{role}本无此权限：{permission}（{area}）；未作更改。</translation>
    </message>
  </context>
  <context>
    <name>AccountDialog</name>
    <message>
      <source>Add user</source>
      <translation>添加用户</translation>
    </message>
    <message>
      <source>Reset password</source>
      <translation>重置密码</translation>
    </message>
    <message>
      <source>Change role</source>
      <translation>更改角色</translation>
    </message>
    <message>
      <source>User name</source>
      <translation>用户名</translation>
    </message>
    <message>
      <source>Full name</source>
      <translation>姓名</translation>
    </message>
    <message>
      <source>Role</source>
      <translation>角色</translation>
    </message>
    <message>
      <source>New role</source>
      <translation>新角色</translation>
    </message>
    <message>
      <source>Password (at least {n} characters)</source>
      <translation>密码（至少 {n} 个字符）</translation>
    </message>
    <message>
      <source>Repeat password</source>
      <translation>重复密码</translation>
    </message>
    <message>
      <source>OK</source>
      <translation>确定</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>取消</translation>
    </message>
    <message>
      <source>The two passwords differ.</source>
      <translation>两次输入的密码不一致。</translation>
    </message>
  </context>
</TS>
